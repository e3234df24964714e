import type { App } from './types.js';

/** What an app is made of, as far as builder() knows: for `plankup --check` and debugging. */
export type AppDescription = {
  name: string;
  layers?: Array<{ name: string; conditional: boolean }>;
  inner?: AppDescription;
  mounts?: Array<{ location: string; app: AppDescription }>;
};

// Kept beside the apps rather than on them: builder() must not add properties to user functions.
const descriptions = new WeakMap<App, AppDescription>();

/** Records what builder() made `app` of, for describeApp. */
export function setDescription(app: App, description: AppDescription): void {
  descriptions.set(app, description);
}

/** The middleware stack and mounts of an app built by builder(), outermost first. */
export function describeApp(app: App): AppDescription {
  return descriptions.get(app) ?? { name: app.name || '(anonymous app)' };
}

/** The stack of an app as one line, outermost first: `Runtime → ContentLength → app`. */
export function formatStack(description: AppDescription): string {
  const layers = (description.layers ?? []).map((l) => (l.conditional ? `${l.name} (if)` : l.name));
  const inner = description.inner
    ? formatStack(description.inner)
    : description.mounts
      ? `urlMap(${description.mounts.map((m) => `${m.location}: ${formatStack(m.app)}`).join(', ')})`
      : description.name;
  return [...layers, inner].join(' → ');
}
