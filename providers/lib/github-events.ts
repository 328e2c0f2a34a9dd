// GitHub objects (REST responses and webhook payloads share their shapes) -> orgloop events.
// Both the polling `github` source and `github-webhook` use these, so a route written for one
// matches the other.
//
// Events follow OrgLoop's GitHub connector (docs/connectors.md, "Coming from OrgLoop"): its
// platform_event names, its provenance (author, author_type team_member | bot, resource_id,
// pr_author, labels, repo, pr_number, pr_state, pr_merged, url, ...) and its payload keys
// (action, pr_title, review_body, comment_body, ...). Ours add the same core to every payload
// (repo, number, title, url, body, author) so one prompt template reads any of them.
//
// platform_event names (aliases in GITHUB_EVENT_ALIASES match too):
//   pull_request.review_submitted   a review was submitted (alias pull_request_review)
//   pull_request_review_comment     an inline review comment (alias pull_request.review_comment)
//   issue_comment                   a comment on an issue or a PR; issue_comment.edited|deleted
//                                   (edits of one comment within a debounce window are one event)
//   pull_request.opened | .closed | .merged | .ready_for_review
//   workflow_run.completed          a failed run (payload.action = workflow_run_failed)
//   issues.opened | issues.labeled | issues.assigned   (issues only, never PRs)
//   check_suite.completed

import type { EmittedEvent } from '../types.js';
import { isBot } from './github-api.js';

/** platform_event emitted -> other names routes may use for it (the seeds', earlier connectors'). */
export const GITHUB_EVENT_ALIASES: Record<string, readonly string[]> = {
  'pull_request.review_submitted': ['pull_request_review'],
  pull_request_review_comment: ['pull_request.review_comment'],
};

/** Names accepted in a github source's `events` list -> the kind of item polled. */
export const GITHUB_EVENT_KINDS = {
  'pull_request.review_submitted': 'reviews',
  pull_request_review: 'reviews',
  pull_request_review_comment: 'review_comments',
  'pull_request.review_comment': 'review_comments',
  issue_comment: 'issue_comments',
  'issue_comment.edited': 'issue_comment_edits',
  'pull_request.opened': 'pull_opened',
  'pull_request.closed': 'pull_closed',
  'pull_request.merged': 'pull_merged',
  'pull_request.ready_for_review': 'pull_ready',
  pull_request: 'pull_any',
  'workflow_run.completed': 'workflow_runs',
  workflow_run: 'workflow_runs',
  'issues.opened': 'issues_opened',
  'issues.labeled': 'issues_labeled',
  'issues.assigned': 'issues_assigned',
  issues: 'issues_any',
  'check_suite.completed': 'check_suites',
  check_suite: 'check_suites',
} as const;

export type GithubEventName = keyof typeof GITHUB_EVENT_KINDS;
export const GITHUB_EVENT_NAMES = Object.keys(GITHUB_EVENT_KINDS) as GithubEventName[];
/** Every provenance.platform_event the github sources emit, with the aliases routes may use. */
export const GITHUB_PLATFORM_EVENTS: string[] = [
  'pull_request.review_submitted',
  'pull_request_review_comment',
  'issue_comment',
  'issue_comment.edited',
  'issue_comment.deleted',
  'pull_request.opened',
  'pull_request.ready_for_review',
  'pull_request.closed',
  'pull_request.merged',
  'workflow_run.completed',
  'issues.opened',
  'issues.labeled',
  'issues.assigned',
  'check_suite.completed',
  ...Object.values(GITHUB_EVENT_ALIASES).flat(),
];

/** What a github source polls when `events` is not set (issues and check suites only when named). */
export const DEFAULT_GITHUB_EVENTS: GithubEventName[] = [
  'pull_request.review_submitted',
  'pull_request_review_comment',
  'issue_comment',
  'pull_request.opened',
  'pull_request.closed',
  'pull_request.merged',
  'workflow_run.completed',
];

/** Conclusions a polled run is reported for: OrgLoop reports failed runs only. */
export const FAILED_CONCLUSIONS = new Set(['failure', 'timed_out', 'startup_failure']);

export interface GhUser {
  login?: string;
  type?: string;
}

/** OrgLoop's author classification: `bot` for apps and `[bot]` logins, else `team_member`. */
export function authorType(user: GhUser | null | undefined): 'bot' | 'team_member' {
  return isBot(user) ? 'bot' : 'team_member';
}

/** Number at the end of an API URL (`.../issues/42` -> 42). */
export function trailingNumber(url: unknown): number | null {
  if (typeof url !== 'string') return null;
  const m = /\/(\d+)$/.exec(url);
  return m ? Number(m[1]) : null;
}

const labelNames = (o: any): string[] => (Array.isArray(o?.labels) ? o.labels.map((l: any) => (typeof l === 'string' ? l : l?.name)).filter(Boolean) : []);
const lower = (s: unknown): string | null => (typeof s === 'string' ? s.toLowerCase() : null);

/** Provenance keys OrgLoop sets for an event about a PR (or an issue a comment is on). */
function prProvenance(pr: any): Record<string, unknown> {
  if (!pr) return { pr_author: 'unknown', labels: [] };
  return {
    pr_author: pr.user?.login ?? 'unknown',
    labels: labelNames(pr),
    pr_number: pr.number ?? null,
    pr_state: pr.state ?? '',
    pr_merged: !!(pr.merged_at ?? pr.merged ?? pr.pull_request?.merged_at),
  };
}

interface Parts {
  platformEvent: string;
  repo: string;
  user: GhUser | null | undefined;
  /** author written by OrgLoop as a name other than a user's login (check suites: the app) */
  authorName?: string;
  url: string | null;
  resourceId: string;
  provenance?: Record<string, unknown>;
  payload: Record<string, unknown>;
  dedupeKey?: string;
  time?: string;
}

function event(p: Parts): EmittedEvent {
  const author = p.authorName ?? p.user?.login ?? 'unknown';
  const type = p.authorName ? 'bot' : authorType(p.user);
  return {
    type: 'resource.changed',
    provenance: {
      platform: 'github',
      platform_event: p.platformEvent,
      resource_id: p.resourceId,
      author,
      author_type: type,
      ...p.provenance,
      repo: p.repo,
      url: p.url ?? '',
    },
    payload: { repo: p.repo, ...p.payload, author, author_type: type },
    ...(p.dedupeKey ? { dedupe_key: p.dedupeKey } : {}),
    time: p.time,
  };
}

export function reviewEvent(repo: string, pr: any, review: any): EmittedEvent {
  const state = lower(review.state);
  const number = pr?.number ?? trailingNumber(review.pull_request_url);
  return event({
    platformEvent: 'pull_request.review_submitted',
    repo,
    user: review.user,
    url: review.html_url ?? pr?.html_url ?? null,
    resourceId: `review-${review.id}`,
    provenance: { ...prProvenance(pr), pr_number: number, review_id: review.id, review_state: state },
    payload: {
      action: 'review_submitted',
      review_id: review.id,
      review_state: state,
      review_body: review.body ?? '',
      pr_title: pr?.title ?? null,
      pr_number: number,
      number,
      title: pr?.title ?? null,
      url: review.html_url ?? null,
      pr_url: pr?.html_url ?? null,
      body: review.body ?? '',
      pr_author: pr?.user?.login ?? null,
      branch: pr?.head?.ref ?? null,
    },
    dedupeKey: `review:${review.id}`,
    time: review.submitted_at ?? undefined,
  });
}

export function reviewCommentEvent(repo: string, comment: any, pr?: any): EmittedEvent {
  const number = pr?.number ?? trailingNumber(comment.pull_request_url);
  return event({
    platformEvent: 'pull_request_review_comment',
    repo,
    user: comment.user,
    url: comment.html_url ?? null,
    resourceId: `comment-${comment.id}`,
    provenance: { ...prProvenance(pr), pr_number: number },
    payload: {
      action: 'review_comment',
      comment_body: comment.body ?? '',
      pr_title: pr?.title ?? null,
      pr_number: number,
      diff_hunk: comment.diff_hunk ?? null,
      path: comment.path ?? null,
      number,
      title: pr?.title ?? null,
      url: comment.html_url ?? null,
      body: comment.body ?? '',
      comment_id: comment.id,
      review_id: comment.pull_request_review_id ?? null,
      line: comment.line ?? comment.original_line ?? null,
      in_reply_to_id: comment.in_reply_to_id ?? null,
    },
    dedupeKey: `review_comment:${comment.id}`,
    time: comment.created_at ?? undefined,
  });
}

/** `action`: created (default; platform_event `issue_comment`), edited or deleted (`issue_comment.<action>`). */
export function issueCommentEvent(repo: string, comment: any, issue?: any, action = 'created'): EmittedEvent {
  const number = issue?.number ?? trailingNumber(comment.issue_url);
  const isPr = !!issue?.pull_request || (typeof comment.html_url === 'string' && comment.html_url.includes('/pull/'));
  const platformEvent = action === 'created' ? 'issue_comment' : `issue_comment.${action}`;
  return event({
    platformEvent,
    repo,
    user: comment.user,
    url: comment.html_url ?? null,
    resourceId: action === 'created' ? `issue-comment-${comment.id}` : `issue-comment-${comment.id}-${action}`,
    provenance: { ...prProvenance(issue), pr_number: number },
    payload: {
      action: platformEvent,
      comment_body: comment.body ?? '',
      issue_title: issue?.title ?? null,
      issue_number: number,
      is_pull_request: isPr,
      number,
      pr_number: isPr ? number : null,
      title: issue?.title ?? null,
      url: comment.html_url ?? null,
      body: comment.body ?? '',
      comment_id: comment.id,
    },
    dedupeKey: action === 'created' ? `issue_comment:${comment.id}` : `issue_comment:${comment.id}:${action}:${comment.updated_at ?? ''}`,
    time: (action === 'created' ? comment.created_at : comment.updated_at) ?? undefined,
  });
}

/** OrgLoop's `issue_comment_edit_debounce_ms` default. */
export const EDIT_DEBOUNCE_MS = 120_000;

/**
 * The key of an edit of a comment. Edits come in bursts (typo fixes): within one debounce window
 * (fixed windows of `windowMs` on the comment's update time) they are one event. A delivery and a
 * poll see the same `updated_at` for the same edit, so they agree; a poll sees only the last edit.
 */
export function editedCommentKey(comment: any, windowMs: number): string {
  const at = Date.parse(comment.updated_at ?? '');
  if (windowMs > 0 && Number.isFinite(at)) return `issue_comment:${comment.id}:edited:${Math.floor(at / windowMs)}`;
  return `issue_comment:${comment.id}:edited:${comment.updated_at ?? ''}`;
}

export type PullAction = 'opened' | 'closed' | 'merged' | 'ready_for_review';

/**
 * `readyAt`: when the PR was made ready for review. A delivery's PR was last updated by that
 * change; a poll reads it from the issue event (the PR may have changed since), so both keys agree.
 */
export function pullRequestEvent(repo: string, pr: any, action: PullAction, sender?: GhUser | null, readyAt?: string): EmittedEvent {
  const at = action === 'opened' ? pr.created_at : action === 'merged' ? pr.merged_at : action === 'closed' ? pr.closed_at : (readyAt ?? pr.updated_at ?? null);
  const merged = action === 'merged';
  const payload: Record<string, unknown> = { action, pr_title: pr.title ?? null, pr_number: pr.number };
  if (action === 'closed' || merged) {
    payload.merged = merged;
    if (merged) payload.merged_by = pr.merged_by?.login ?? sender?.login ?? null;
  }
  if (action === 'opened') payload.draft = !!pr.draft;
  if (action === 'opened' || action === 'ready_for_review') {
    payload.head_ref = pr.head?.ref ?? null;
    payload.base_ref = pr.base?.ref ?? null;
  }
  Object.assign(payload, {
    number: pr.number,
    title: pr.title ?? null,
    url: pr.html_url ?? null,
    body: pr.body ?? '',
    pr_author: pr.user?.login ?? null,
    draft: !!pr.draft,
    branch: pr.head?.ref ?? null,
    base: pr.base?.ref ?? null,
    labels: labelNames(pr),
    ...(action === 'closed' || merged ? {} : { merged: !!pr.merged_at }),
  });
  return event({
    platformEvent: `pull_request.${action}`,
    repo,
    // OrgLoop names the PR's author as the author of its state changes
    user: pr.user,
    url: pr.html_url ?? null,
    resourceId: `pr-${pr.number}-${action === 'ready_for_review' ? 'ready' : action}`,
    provenance: { ...prProvenance(pr), ...(action === 'opened' || action === 'ready_for_review' ? { pr_state: undefined, pr_merged: undefined } : {}) },
    payload,
    // keyed by the transition time: a PR reopened and closed again is a new event. Readiness is
    // keyed by number: a poll learns of it from an issue event, which carries the issue, not the PR
    dedupeKey: action === 'ready_for_review' ? `pull_request:${repo}#${pr.number}:ready_for_review:${at ?? ''}` : `pull_request:${pr.id}:${action}:${at ?? ''}`,
    time: at ?? undefined,
  });
}

export function workflowRunEvent(repo: string, run: any): EmittedEvent {
  const conclusion = run.conclusion ?? null;
  const pr = Array.isArray(run.pull_requests) && run.pull_requests[0] ? run.pull_requests[0] : null;
  const actor = run.actor ?? run.triggering_actor;
  const failed = FAILED_CONCLUSIONS.has(String(conclusion));
  return event({
    platformEvent: 'workflow_run.completed',
    repo,
    user: actor,
    url: run.html_url ?? null,
    resourceId: `run-${run.id}`,
    provenance: { pr_author: pr ? (pr.user?.login ?? 'unknown') : (actor?.login ?? 'unknown'), labels: labelNames(pr) },
    payload: {
      action: failed ? 'workflow_run_failed' : 'workflow_run_completed',
      workflow_name: run.name ?? null,
      run_number: run.run_number ?? null,
      conclusion,
      head_branch: run.head_branch ?? null,
      head_sha: run.head_sha ?? null,
      number: pr?.number ?? null,
      pr_number: pr?.number ?? null,
      title: run.display_title ?? run.name ?? null,
      url: run.html_url ?? null,
      body: '',
      workflow: run.name ?? null,
      failed,
      run_id: run.id,
      run_attempt: run.run_attempt ?? 1,
      branch: run.head_branch ?? null,
      sha: run.head_sha ?? null,
      trigger: run.event ?? null,
    },
    dedupeKey: `workflow_run:${run.id}:${run.run_attempt ?? 1}`,
    time: run.updated_at ?? undefined,
  });
}

export type IssueAction = 'opened' | 'labeled' | 'assigned';

/**
 * An issue event (`issues.opened|labeled|assigned`); `sender` made the change. Never for PRs.
 * `at` is when the change was made: a delivery's issue was last updated by it, a poll reads it from
 * the issue event. The key is what both paths know alike (the issue, the change, its time), so a
 * reconciled event and its delivery are one; an issue opens once, so its opening needs no time.
 */
export function issueEvent(repo: string, action: IssueAction, issue: any, sender: GhUser | null | undefined, extra: { label?: any; assignee?: any; at?: string } = {}): EmittedEvent {
  const label = extra.label?.name ?? '';
  const assignee = extra.assignee?.login ?? '';
  const payload: Record<string, unknown> = { action, issue_title: issue.title ?? null, issue_number: issue.number, issue_state: issue.state ?? null };
  if (action === 'labeled') payload.label = label;
  if (action === 'assigned') payload.assignee = assignee;
  Object.assign(payload, { number: issue.number, title: issue.title ?? null, url: issue.html_url ?? null, body: issue.body ?? '', labels: labelNames(issue) });
  const suffix = action === 'labeled' ? `-${label}` : action === 'assigned' ? `-${assignee}` : '';
  return event({
    platformEvent: `issues.${action}`,
    repo,
    user: sender,
    url: issue.html_url ?? null,
    resourceId: `issue-${issue.number}-${action}${suffix}`,
    provenance: action === 'labeled' ? { label } : {},
    payload,
    dedupeKey: action === 'opened' ? `issues:${repo}#${issue.number}:opened` : `issues:${repo}#${issue.number}:${action}${suffix}:${extra.at ?? ''}`,
    time: extra.at,
  });
}

export function checkSuiteEvent(repo: string, suite: any): EmittedEvent {
  const app = suite.app;
  const pr = Array.isArray(suite.pull_requests) ? suite.pull_requests[0] : undefined;
  return event({
    platformEvent: 'check_suite.completed',
    repo,
    user: null,
    authorName: app?.slug ?? 'unknown',
    url: suite.url ?? null,
    resourceId: `suite-${suite.id}`,
    provenance: pr?.user?.login ? { pr_author: pr.user.login } : {},
    payload: {
      action: 'check_suite_completed',
      conclusion: suite.conclusion ?? null,
      status: suite.status ?? null,
      app_name: app?.name ?? app?.slug ?? null,
      head_branch: suite.head_branch ?? null,
      head_sha: suite.head_sha ?? null,
      before: suite.before ?? null,
      after: suite.after ?? null,
      number: pr?.number ?? null,
      pr_number: pr?.number ?? null,
      failed: FAILED_CONCLUSIONS.has(String(suite.conclusion)),
    },
    dedupeKey: `check_suite:${suite.id}:${suite.updated_at ?? ''}`,
    time: suite.updated_at ?? undefined,
  });
}
