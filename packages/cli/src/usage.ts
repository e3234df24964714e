/** plankup --help. */
export const usage: string = `Usage: plankup [options] [app.ts|app.js]

Runs a Plank app (the default export of the app file; default app.ts, then app.js, app.mjs).

Options:
  -a, --app FILE          the app file (same as the argument)
  -o, --host HOST         interface to bind (default: all interfaces)
  -p, --port PORT         TCP port (default: $PORT, else 5000)
  -S, --socket PATH       listen on a unix socket
  -l, --listen ADDR       HOST:PORT, :PORT or a socket path; repeatable
  -s, --server NAME       node (default), fastify, prefork, or +package
  -E, --env ENV           development (default; adds AccessLog, StackTrace, Lint), deployment, ...
                          PLANK_ENV in the environment wins
  -e CODE                 a builder block in JavaScript (enable(...); mount(...)), around the app
                          file if one is given; alone, it may be an app expression
  -M MODULE               import MODULE first; repeatable
  -r, --reload            restart when files in the app's folder change
  -R, --Reload DIRS       also watch these folders (comma-separated); implies -r
      --access-log FILE   write an access log (combined format) to FILE
      --path /MOUNT       serve the app under this path
      --no-default-middleware
                          no development middleware even with -E development
      --check             load the app and its middleware, validate the options, print what
                          would run, and exit (0 when all is well, 1 otherwise)
      --debug             print stacks with errors
  -h, --help              this text
  -v, --version           plankup's version

Any other --key=value, --key value, --enable-key or --disable-key goes to the server,
e.g. --max-workers=4 for -s prefork.
`;
