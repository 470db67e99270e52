import { type Context } from 'hono';
import { type z } from 'zod';
import { ApiError } from './errors';

/** Parses a JSON body against a schema; 400 naming the first bad field otherwise. */
export async function parseJsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new ApiError(400, 'invalid_json', 'request body is not valid JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(body)';
    throw new ApiError(400, 'invalid_body', `${field}: ${issue?.message ?? 'invalid'}`, { field });
  }
  return parsed.data;
}
