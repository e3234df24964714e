import type { AppResult, Responder, StreamingResponse } from './types.js';

type Result = AppResult | Promise<AppResult>;

/**
 * Runs `run` and turns whatever it throws or rejects with into `onError`'s response:
 * a synchronous throw, a rejected promise, and a streaming response that fails before it
 * called its responder (after that, the head is on the wire and only the server can cut
 * the response short, so the error propagates). Error handling, unlike post-processing,
 * must see inside streaming responses, which is why this is not `responseCb`.
 */
export function catchErrors(run: () => Result, onError: (err: unknown) => Result): Result {
  let result: Result;
  try {
    result = run();
  } catch (err) {
    return onError(err);
  }
  if (result instanceof Promise) return result.then(guardStreaming, onError);
  return guardStreaming(result);

  function guardStreaming(res: AppResult): AppResult {
    if (typeof res !== 'function') return res;
    return function catchingStreamingResponse(respond: Responder) {
      let responded = false;
      const tracked: Responder = (r) => {
        responded = true;
        return respond(r);
      };
      const recover = (err: unknown): Promise<void> => {
        if (responded) throw err;
        return deliver(onError(err), respond);
      };
      let out: void | Promise<void>;
      try {
        out = res(tracked);
      } catch (err) {
        return recover(err);
      }
      return out instanceof Promise ? out.catch(recover) : out;
    } satisfies StreamingResponse;
  }
}

async function deliver(result: Result, respond: Responder): Promise<void> {
  const res = await result;
  if (typeof res === 'function') await res(respond);
  else respond(res);
}
