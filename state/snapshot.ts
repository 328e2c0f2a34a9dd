// What an apply stores: the snapshot of the applied graph. It lives here, below the engine,
// because the store persists it; the engine's graph types re-export it.

export type ResourceKind = 'source' | 'actor' | 'route' | 'transform' | 'logger';
/** `source.github`, `route.pr-review`, ... */
export type Address = string;

/** A secret as stored: never the value. */
export interface StoredSecret {
  $secret: { template: string; hash: string };
}

export interface ResourceState {
  kind: ResourceKind;
  name: string;
  provider: string;
  /** normalized spec; secret values replaced by StoredSecret */
  attributes: Record<string, unknown>;
  depends_on: Address[];
  prompt_sha256?: string;
  /** what a provider's create/update hook returned (e.g. a registered webhook's id): opaque JSON here */
  provider_state?: Record<string, unknown>;
}

export interface StateSnapshot {
  format_version: 1;
  project: { name: string; dir: string };
  resources: Record<Address, ResourceState>;
}
