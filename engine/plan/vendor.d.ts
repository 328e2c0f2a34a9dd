// Type declarations for untyped dependencies used by the planner.

declare module 'json-diff' {
  export function diff(a: unknown, b: unknown, options?: { full?: boolean; sort?: boolean }): unknown;
}

declare module '@ewoudenberg/difflib' {
  export function unifiedDiff(
    a: string[],
    b: string[],
    options?: { fromfile?: string; tofile?: string; n?: number; lineterm?: string },
  ): string[];
}
