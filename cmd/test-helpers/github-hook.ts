// For tests of the github-webhook source against the fake GitHub (test/fakes/github.ts): one fake
// per test file, holding the repository acme/api, and the source as a project writes it, with its
// credentials and the API's address taken from the environment.

import { afterAll, beforeAll } from 'vitest';
import { startFakeGithub, type FakeGithub } from '../../test/fakes/github.js';

export const GITHUB_TOKEN = 'gh-tok';

/** Starts a fake GitHub with acme/api before the file's tests and closes it after; call at top level. */
export function fakeGithubForFile(): { readonly gh: FakeGithub } {
  const holder = {} as { gh: FakeGithub };
  beforeAll(async () => {
    holder.gh = await startFakeGithub({ token: GITHUB_TOKEN });
    holder.gh.repo('acme/api');
  });
  afterAll(() => holder.gh.close());
  return holder;
}

/** The `- id: gh-hook` source entry (sources: list indentation), managing a hook on acme/api. */
export function githubHookSource(o: { connector?: string; events?: string[] | null } = {}): string {
  return `  - id: gh-hook
    connector: ${o.connector ?? 'github-webhook'}
    config:
      repo: acme/api
      token: "\${GITHUB_TOKEN}"
      secret: "\${GITHUB_WEBHOOK_SECRET}"
      public_url: https://hooks.example.com
      base_url: "\${GITHUB_API_URL}"
${o.events ? `      events: [${o.events.join(', ')}]\n` : ''}`;
}
