import { type ConfigSpec, type ServiceConfig, schemas, secretEnv } from '@hearth/config';

const BODY_KEYS = secretEnv(
  'HEARTH_POST_BODY_KEYS',
  {},
  'the key ring post and response bodies are encrypted with at rest (AES-256-GCM): comma-separated <id>:<base64 of 32 random bytes>, the first used for new writes, the others still read (rotate by putting a new key first). Required, keep it in a secret store',
);

/** Variables only the post service reads (prefix HEARTH_POST_). The shared ones are in @hearth/config. */
export const postConfigSpec = {
  bodyKeys: {
    ...BODY_KEYS,
    // The problem names the entry, never the key material.
    schema: BODY_KEYS.schema.superRefine((s, ctx) => {
      const ring = schemas.parseKeyRing(s.reveal());
      if ('problem' in ring) ctx.addIssue({ code: 'custom', message: ring.problem });
    }),
  },
} as const satisfies ConfigSpec;

export type PostConfig = ServiceConfig<typeof postConfigSpec>;
