/**
 * Privacy at rest under `npm start`: a development payload key generated once in the git-ignored
 * data folder (so the dev server's SQLite file holds ciphertext), the codec endpoint switched on
 * with the dev token, and the dev server's Web UI pointed at it (so the UI shows plaintext).
 */
import path from 'node:path';

import { DEV_CODEC_TOKEN } from '../../src/config';
import { ensureDevPayloadKeyFile } from '../../src/temporal/payload-keys';

/** What `npm start` adds to its children's environment, and what it tells the dev server's UI. */
export interface DevPayloadPrivacy {
  /** Defaults for the children (the user's own environment still wins). */
  env: Record<string, string>;
  /** `--ui-codec-endpoint` of the dev server: the codec endpoint with the token in its path (a browser sends no header). */
  uiCodecEndpoint: string;
  /** The dev key file, when `npm start` manages the keys (undefined: the user configured their own, or turned encryption off). */
  keyFile: string | undefined;
  /** True when the key file was created by this start. */
  createdKey: boolean;
  /** One line for `npm start`'s summary (no key material; the dev token is printed like the other dev tokens). */
  summary: string;
}

/** Sets up the dev key (once) and the codec endpoint for `npm start`; `uiOrigins` are the Web UI's origins. */
export function devPayloadPrivacy(options: {
  dataDir: string;
  apiUrl: string;
  uiOrigins: string[];
  userEnv: Record<string, string | undefined>;
}): DevPayloadPrivacy {
  const { userEnv } = options;
  const ownKeys =
    userEnv.PAYLOAD_ENCRYPTION_KEYS !== undefined ||
    userEnv.PAYLOAD_ENCRYPTION_KEY_FILE !== undefined ||
    userEnv.PAYLOAD_ENCRYPTION === 'off';
  const keyFile = ownKeys ? undefined : path.join(options.dataDir, 'dev', 'payload-keys');
  const createdKey = keyFile ? ensureDevPayloadKeyFile(keyFile) : false;
  const token = userEnv.CODEC_SERVER_TOKEN ?? DEV_CODEC_TOKEN;
  const keys = keyFile
    ? `encrypted with the dev key in ${path.relative(path.dirname(options.dataDir), keyFile)}${createdKey ? ' (created now)' : ''}`
    : userEnv.PAYLOAD_ENCRYPTION === 'off'
      ? 'in clear (PAYLOAD_ENCRYPTION=off)'
      : 'encrypted with the keys from your environment';
  return {
    env: {
      SWITCHBOARD_MODE: 'development',
      ...(keyFile ? { PAYLOAD_ENCRYPTION_KEY_FILE: keyFile } : {}),
      CODEC_SERVER_TOKEN: token,
      CODEC_SERVER_CORS_ORIGINS: options.uiOrigins.join(','),
    },
    uiCodecEndpoint: `${options.apiUrl}/codec/${encodeURIComponent(token)}`,
    keyFile,
    createdKey,
    summary: `${keys}; codec endpoint ${options.apiUrl}/codec, token ${userEnv.CODEC_SERVER_TOKEN ? 'from CODEC_SERVER_TOKEN' : DEV_CODEC_TOKEN}`,
  };
}
