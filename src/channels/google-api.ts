import { type CallDescription } from './failures';
import { type AccessTokenSource } from './google-auth';
import { httpCall, type HttpOptions, type HttpRequest, type HttpResponse } from './http';

/**
 * One call to a Google API with a bearer token. A 401 means the cached token was revoked or
 * expired early: the token is dropped and the call repeated once with a fresh one (same ids, so
 * the repeat is the same call). Any other status is returned for the caller to classify.
 */
export async function googleCall(
  tokens: AccessTokenSource,
  req: HttpRequest,
  call: CallDescription,
  opts: HttpOptions,
): Promise<HttpResponse> {
  const send = async () => {
    const token = await tokens.getToken();
    return httpCall(
      { ...req, headers: { accept: 'application/json', ...req.headers, authorization: `Bearer ${token}` } },
      call,
      opts,
    );
  };
  const first = await send();
  if (first.status !== 401) return first;
  tokens.invalidate();
  return send();
}

/** JSON request headers for a body-carrying Google call. */
export const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' } as const;
