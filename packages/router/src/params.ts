// Route parameters typed from the pattern string, so `r.get('/users/:id', (env, p) => p.id)`
// type-checks `p.id` and rejects `p.name`. find-my-way's pattern syntax: `:name`, `:name(regex)`,
// several parameters in one segment separated by `-` or `.` (`/:from-:to`), and a trailing `*`
// whose value is named `*`.

type Segments<P extends string> = P extends `${infer Head}/${infer Tail}` ? Head | Segments<Tail> : P;

// One segment can hold several parameters: `:from-:to`, `:file.:ext`, `:id(^\\d+)`.
type NamesIn<S extends string> = S extends `${string}:${infer After}` ? NameThen<After> : never;
type NameThen<S extends string> = S extends `${infer Name}(${string})${infer Rest}`
  ? CleanName<Name> | NamesIn<Rest>
  : S extends `${infer Name}-${infer Rest}`
    ? CleanName<Name> | NamesIn<Rest>
    : S extends `${infer Name}.${infer Rest}`
      ? CleanName<Name> | NamesIn<Rest>
      : CleanName<S>;
type CleanName<S extends string> = S extends '' ? never : S;

type ParamNames<P extends string> = NamesIn<Segments<P>> | (P extends `${string}*` ? '*' : never);

/**
 * The parameters of a route pattern: `RouteParams<'/users/:id/files/*'>` is
 * `{ id: string; '*': string }`. Values are decoded (UTF-8) from the matched path segment.
 */
export type RouteParams<P extends string> = string extends P
  ? Record<string, string>
  : { [K in ParamNames<P>]: string };
