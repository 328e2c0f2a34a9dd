// GitHub objects (REST responses and webhook payloads share their shapes) -> orgloop events.
// Both the polling `github` source and `github-webhook` use these, so a route written for one
// matches the other.
//
// platform_event names (what routes match in `when.events` or filter on):
//   pull_request_review            a review was submitted (payload.action = "submitted",
//                                  payload.review_state = approved | changes_requested | commented)
//   pull_request_review_comment    an inline review comment
//   issue_comment                  a comment on an issue or a PR (payload.is_pull_request)
//   pull_request.opened | pull_request.closed | pull_request.merged
//   workflow_run.completed         payload.failed = true when the conclusion is a failure

import type { EmittedEvent } from '../types.js';
import { isBot } from './github-api.js';

/** platform_event names earlier OrgLoop connectors emitted -> the name emitted now. */
export const RENAMED_GITHUB_EVENTS: Record<string, string> = {
  'pull_request.review_submitted': 'pull_request_review',
  'pull_request.review_comment': 'pull_request_review_comment',
};

/** Names accepted in a github source's `events` list -> the kind of item polled. */
export const GITHUB_EVENT_KINDS = {
  pull_request_review: 'reviews',
  'pull_request.review_submitted': 'reviews', // the name earlier OrgLoop connectors used
  pull_request_review_comment: 'review_comments',
  'pull_request.review_comment': 'review_comments',
  issue_comment: 'issue_comments',
  'pull_request.opened': 'pull_opened',
  'pull_request.closed': 'pull_closed',
  'pull_request.merged': 'pull_merged',
  pull_request: 'pull_any',
  'workflow_run.completed': 'workflow_runs',
  workflow_run: 'workflow_runs',
} as const;

export type GithubEventName = keyof typeof GITHUB_EVENT_KINDS;
export const GITHUB_EVENT_NAMES = Object.keys(GITHUB_EVENT_KINDS) as GithubEventName[];

const FAILED_CONCLUSIONS = new Set(['failure', 'timed_out', 'startup_failure', 'action_required']);

export interface GhUser {
  login?: string;
  type?: string;
}

function who(user: GhUser | null | undefined): { author: string | null; author_type: 'bot' | 'user' } {
  return { author: user?.login ?? null, author_type: isBot(user) ? 'bot' : 'user' };
}

/** Number at the end of an API URL (`.../issues/42` -> 42). */
export function trailingNumber(url: unknown): number | null {
  if (typeof url !== 'string') return null;
  const m = /\/(\d+)$/.exec(url);
  return m ? Number(m[1]) : null;
}

function event(
  platformEvent: string,
  repo: string,
  user: GhUser | null | undefined,
  url: string | null,
  payload: Record<string, unknown>,
  dedupeKey: string,
  time: string | undefined,
): EmittedEvent {
  const a = who(user);
  return {
    type: 'resource.changed',
    provenance: {
      platform: 'github',
      platform_event: platformEvent,
      author: a.author ?? undefined,
      author_type: a.author_type,
      url: url ?? undefined,
      repo,
    },
    payload: { repo, ...payload, author: a.author, author_type: a.author_type },
    dedupe_key: dedupeKey,
    time,
  };
}

export function reviewEvent(repo: string, pr: any, review: any): EmittedEvent {
  const state = typeof review.state === 'string' ? review.state.toLowerCase() : null;
  return event(
    'pull_request_review',
    repo,
    review.user,
    review.html_url ?? pr?.html_url ?? null,
    {
      action: 'submitted',
      number: pr?.number ?? trailingNumber(review.pull_request_url),
      pr_number: pr?.number ?? trailingNumber(review.pull_request_url),
      title: pr?.title ?? null,
      url: review.html_url ?? null,
      pr_url: pr?.html_url ?? null,
      body: review.body ?? '',
      review_id: review.id,
      review_state: state,
      pr_author: pr?.user?.login ?? null,
      branch: pr?.head?.ref ?? null,
    },
    `review:${review.id}`,
    review.submitted_at ?? undefined,
  );
}

export function reviewCommentEvent(repo: string, comment: any, pr?: any): EmittedEvent {
  const number = pr?.number ?? trailingNumber(comment.pull_request_url);
  return event(
    'pull_request_review_comment',
    repo,
    comment.user,
    comment.html_url ?? null,
    {
      action: 'created',
      number,
      pr_number: number,
      title: pr?.title ?? null,
      url: comment.html_url ?? null,
      body: comment.body ?? '',
      comment_id: comment.id,
      review_id: comment.pull_request_review_id ?? null,
      path: comment.path ?? null,
      line: comment.line ?? comment.original_line ?? null,
      diff_hunk: comment.diff_hunk ?? null,
      in_reply_to_id: comment.in_reply_to_id ?? null,
    },
    `review_comment:${comment.id}`,
    comment.created_at ?? undefined,
  );
}

export function issueCommentEvent(repo: string, comment: any, issue?: any): EmittedEvent {
  const number = issue?.number ?? trailingNumber(comment.issue_url);
  const isPr = !!issue?.pull_request || (typeof comment.html_url === 'string' && comment.html_url.includes('/pull/'));
  return event(
    'issue_comment',
    repo,
    comment.user,
    comment.html_url ?? null,
    {
      action: 'created',
      number,
      pr_number: isPr ? number : null,
      is_pull_request: isPr,
      title: issue?.title ?? null,
      url: comment.html_url ?? null,
      body: comment.body ?? '',
      comment_id: comment.id,
    },
    `issue_comment:${comment.id}`,
    comment.created_at ?? undefined,
  );
}

export type PullAction = 'opened' | 'closed' | 'merged';

export function pullRequestEvent(repo: string, pr: any, action: PullAction, actor?: GhUser | null): EmittedEvent {
  const at = action === 'opened' ? pr.created_at : action === 'merged' ? pr.merged_at : pr.closed_at;
  const user = action === 'merged' ? (pr.merged_by ?? actor ?? pr.user) : action === 'closed' ? (actor ?? pr.user) : pr.user;
  return event(
    `pull_request.${action}`,
    repo,
    user,
    pr.html_url ?? null,
    {
      action,
      number: pr.number,
      pr_number: pr.number,
      title: pr.title ?? null,
      url: pr.html_url ?? null,
      body: pr.body ?? '',
      pr_author: pr.user?.login ?? null,
      draft: !!pr.draft,
      merged: !!pr.merged_at,
      branch: pr.head?.ref ?? null,
      base: pr.base?.ref ?? null,
      labels: Array.isArray(pr.labels) ? pr.labels.map((l: any) => l?.name).filter(Boolean) : [],
    },
    // keyed by the transition time: a PR reopened and closed again is a new event
    `pull_request:${pr.id}:${action}:${at ?? ''}`,
    at ?? undefined,
  );
}

export function workflowRunEvent(repo: string, run: any): EmittedEvent {
  const conclusion = run.conclusion ?? null;
  const pr = Array.isArray(run.pull_requests) && run.pull_requests[0] ? run.pull_requests[0] : null;
  return event(
    'workflow_run.completed',
    repo,
    run.triggering_actor ?? run.actor,
    run.html_url ?? null,
    {
      action: 'completed',
      number: pr?.number ?? null,
      pr_number: pr?.number ?? null,
      title: run.display_title ?? run.name ?? null,
      url: run.html_url ?? null,
      body: '',
      workflow: run.name ?? null,
      conclusion,
      failed: FAILED_CONCLUSIONS.has(String(conclusion)),
      run_id: run.id,
      run_attempt: run.run_attempt ?? 1,
      branch: run.head_branch ?? null,
      sha: run.head_sha ?? null,
      trigger: run.event ?? null,
    },
    `workflow_run:${run.id}:${run.run_attempt ?? 1}`,
    run.updated_at ?? undefined,
  );
}
