// orgloop/sdk: the public provider contract (DESIGN §7, "Provider packages").
//
// A provider package depends on orgloop (as a peer) and default-exports a provider (or a list of
// providers of different kinds) built against this module:
//
//   import { contractVersion, type SourceProvider } from 'orgloop/sdk';
//   const source: SourceProvider = { kind: 'source', name: 'acme', contractVersion, configSchema: {...}, poll };
//   export default source;
//
// The built-in providers are written against the same types and pass the same admission check.

export type {
  ActorProvider,
  DeliveryRequest,
  DeliveryResult,
  EmittedEvent,
  JSONSchema,
  LogEntry,
  Logger,
  LoggerProvider,
  LoggerSink,
  ObservedState,
  OrgEvent,
  PollResult,
  Provider,
  ProviderBase,
  ProviderContext,
  ProviderKind,
  ProviderState,
  SourceProvider,
  TransformProvider,
  TransformResult,
  TransformStore,
  WebhookRequest,
  WebhookResult,
} from '../providers/types.js';
export { CONTRACT_VERSION as contractVersion, SUPPORTED_CONTRACT_VERSIONS, admitProvider } from '../providers/contract.js';
export { startHarness, type HarnessOptions, type ProviderHarness, type HarnessDelivery } from './harness.js';
