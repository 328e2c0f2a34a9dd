// Linear issues and comments -> orgloop events, shared by the polling `linear` source and
// `linear-webhook`, in OrgLoop's Linear connector shapes: platform_event issue.created,
// issue.state_changed, issue.assignee_changed, issue.priority_changed, issue.labels_changed,
// issue.delegate_changed, comment.created (provenance issue_id, state, issue_assignee,
// issue_creator; payload action issue_created / state_changed / ..., issue_title,
// previous_* / new_*). Every payload also carries our common core (team, id, issue_id, number,
// title, url, author, body, state, assignee, priority, labels) so one prompt reads any of them.

import type { EmittedEvent } from '../types.js';

type Named = { name?: string | null; displayName?: string | null; isBot?: boolean | null } | null | undefined;

export const personName = (p: Named): string | null => p?.name ?? p?.displayName ?? null;
const authorType = (p: Named): 'bot' | 'team_member' => (p?.isBot ? 'bot' : 'team_member');
export const labelNames = (issue: any): string[] => {
  const list = Array.isArray(issue?.labels) ? issue.labels : Array.isArray(issue?.labels?.nodes) ? issue.labels.nodes : [];
  return list.map((l: any) => (typeof l === 'string' ? l : l?.name)).filter((n: unknown): n is string => typeof n === 'string');
};
const stateName = (s: unknown): string | null => (typeof s === 'string' ? s : s && typeof s === 'object' && typeof (s as { name?: unknown }).name === 'string' ? (s as { name: string }).name : null);

/** What every issue event's payload carries besides OrgLoop's keys. */
function issueCore(issue: any, team?: unknown): Record<string, unknown> {
  return {
    team: issue.team?.key ?? team ?? null,
    project: issue.project?.name ?? null,
    id: issue.id ?? null,
    issue_id: issue.identifier ?? null,
    number: issue.identifier ?? null,
    title: issue.title ?? null,
    url: issue.url ?? null,
    body: issue.description ?? '',
    state: stateName(issue.state),
    state_type: issue.state?.type ?? null,
    assignee: issue.assignee ? (issue.assignee.displayName ?? issue.assignee.name ?? null) : null,
    priority: issue.priority ?? null,
    priority_label: issue.priorityLabel ?? null,
    labels: labelNames(issue),
    created_at: issue.createdAt ?? null,
    updated_at: issue.updatedAt ?? null,
  };
}

interface Built {
  platformEvent: string;
  author: Named | string;
  issue: any;
  provenance?: Record<string, unknown>;
  payload: Record<string, unknown>;
  dedupeKey?: string;
  time?: string;
  team?: unknown;
  botAuthor?: boolean;
}

function build(b: Built): EmittedEvent {
  const author = typeof b.author === 'string' ? b.author : (personName(b.author) ?? 'unknown');
  // our payload names people as Linear shows them (display name), OrgLoop's provenance by name
  const shown = typeof b.author === 'string' ? b.author : (b.author?.displayName ?? b.author?.name ?? null);
  const aType = typeof b.author === 'string' ? (b.botAuthor ? 'bot' : 'team_member') : authorType(b.author);
  const core = issueCore(b.issue, b.team);
  return {
    type: 'resource.changed',
    provenance: {
      platform: 'linear',
      platform_event: b.platformEvent,
      author,
      author_type: aType,
      issue_id: b.issue.identifier ?? null,
      ...b.provenance,
      url: b.issue.url ?? '',
    },
    payload: { ...core, ...b.payload, author: shown },
    ...(b.dedupeKey ? { dedupe_key: b.dedupeKey } : {}),
    time: b.time,
  };
}

export function issueCreated(issue: any, opts: { team?: unknown; dedupeKey?: string } = {}): EmittedEvent {
  const state = stateName(issue.state) ?? 'Unknown';
  return build({
    platformEvent: 'issue.created',
    author: issue.creator,
    issue,
    team: opts.team,
    provenance: { state },
    payload: { action: 'issue_created', issue_title: issue.title ?? null, issue_description: issue.description ?? '', state },
    dedupeKey: opts.dedupeKey,
    time: issue.createdAt ?? undefined,
  });
}

export function stateChanged(issue: any, previous: string | null, opts: { team?: unknown; dedupeKey?: string } = {}): EmittedEvent {
  const state = stateName(issue.state) ?? 'Unknown';
  return build({
    platformEvent: 'issue.state_changed',
    // OrgLoop names the assignee as the author of a state change
    author: issue.assignee,
    issue,
    team: opts.team,
    provenance: { state },
    payload: { action: 'state_changed', issue_title: issue.title ?? null, previous_state: previous ?? 'Unknown', new_state: state },
    dedupeKey: opts.dedupeKey,
    time: issue.updatedAt ?? undefined,
  });
}

export function assigneeChanged(issue: any, previous: string | null, opts: { team?: unknown; dedupeKey?: string } = {}): EmittedEvent {
  return build({
    platformEvent: 'issue.assignee_changed',
    author: issue.assignee,
    issue,
    team: opts.team,
    payload: { action: 'assignee_changed', issue_title: issue.title ?? null, previous_assignee: previous, new_assignee: personName(issue.assignee) },
    dedupeKey: opts.dedupeKey,
    time: issue.updatedAt ?? undefined,
  });
}

export function priorityChanged(issue: any, previous: number | null, opts: { team?: unknown; dedupeKey?: string } = {}): EmittedEvent {
  return build({
    platformEvent: 'issue.priority_changed',
    author: issue.assignee,
    issue,
    team: opts.team,
    payload: { action: 'priority_changed', issue_title: issue.title ?? null, previous_priority: previous, new_priority: issue.priority ?? null },
    dedupeKey: opts.dedupeKey,
    time: issue.updatedAt ?? undefined,
  });
}

export function labelsChanged(issue: any, previous: string[], opts: { team?: unknown; dedupeKey?: string } = {}): EmittedEvent {
  const now = labelNames(issue);
  return build({
    platformEvent: 'issue.labels_changed',
    author: issue.assignee,
    issue,
    team: opts.team,
    payload: {
      action: 'labels_changed',
      issue_title: issue.title ?? null,
      previous_labels: previous,
      new_labels: now,
      added_labels: now.filter((l) => !previous.includes(l)),
      removed_labels: previous.filter((l) => !now.includes(l)),
    },
    dedupeKey: opts.dedupeKey,
    time: issue.updatedAt ?? undefined,
  });
}

export function delegateChanged(issue: any, actor: Named, previousId: string | null, opts: { team?: unknown; dedupeKey?: string } = {}): EmittedEvent {
  const e = build({
    platformEvent: 'issue.delegate_changed',
    author: actor,
    issue,
    team: opts.team,
    payload: {
      action: 'delegate_changed',
      issue_title: issue.title ?? null,
      old_delegate_id: previousId,
      new_delegate: personName(issue.delegate),
      new_delegate_id: issue.delegate?.id ?? null,
    },
    dedupeKey: opts.dedupeKey,
    time: issue.updatedAt ?? undefined,
  });
  // OrgLoop sets no author_type on a delegation
  delete e.provenance!.author_type;
  return e;
}

/** A new comment (`comment.created`); `comment.issue` may carry the issue's assignee and creator. */
export function commentCreated(comment: any, opts: { dedupeKey?: string; botName?: string | null } = {}): EmittedEvent {
  const issue = comment.issue ?? {};
  const bot = !comment.user && !!opts.botName;
  const author = personName(comment.user) ?? opts.botName ?? 'unknown';
  const e = build({
    platformEvent: 'comment.created',
    author: comment.user ? comment.user : author,
    botAuthor: bot,
    issue,
    provenance: { issue_assignee: personName(issue.assignee), issue_creator: personName(issue.creator) },
    payload: {
      action: 'comment_created',
      issue_title: issue.title ?? null,
      comment_body: comment.body ?? '',
      comment_id: comment.id ?? null,
      body: comment.body ?? '',
      issue_url: issue.url ?? null,
      created_at: comment.createdAt ?? null,
      updated_at: comment.updatedAt ?? null,
    },
    dedupeKey: opts.dedupeKey,
    time: comment.createdAt ?? undefined,
  });
  e.provenance!.url = comment.url ?? '';
  e.payload.url = comment.url ?? null;
  return e;
}

/** Anything else, as OrgLoop passes it: `<type>.<action>` with the body as payload (plus ours). */
export function rawLinearEvent(type: string, action: string, body: any): EmittedEvent {
  const data = body?.data ?? {};
  const actor = body?.actor;
  return {
    type: 'resource.changed',
    provenance: {
      platform: 'linear',
      platform_event: `${type.toLowerCase()}.${action}`,
      ...(actor ? { author: personName(actor) ?? 'unknown', author_type: actor.type && actor.type !== 'user' ? 'bot' : 'team_member' } : {}),
      url: body?.url ?? data.url ?? '',
    },
    payload: { ...(body && typeof body === 'object' ? body : {}), issue_id: data.identifier ?? data.issue?.identifier ?? null },
    time: body?.createdAt ?? undefined,
  };
}
