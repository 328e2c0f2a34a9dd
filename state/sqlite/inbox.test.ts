// Inbox batching's store operations on SQLite (the same contract runs on Postgres in
// state/postgres/store.test.ts when ORGLOOP_TEST_PG_URL is set).
import { describeInboxContract } from '../test-helpers/inbox-contract.js';
import { tempStorePath } from './test-helpers/fixtures.js';

describeInboxContract({ name: 'sqlite', newLocation: async () => tempStorePath() });
