import type { ServiceImpl } from '@connectrpc/connect';
import type { SupportService } from '@hearth/contracts/gen/hearth/support/v1/support_service_pb.js';
import type { CrisisResources } from '../service/crisis-resources.js';

/** How long apps and caches may keep a directory (it changes rarely; apps keep a copy offline too). */
const MAX_AGE_SEC = 3_600;

/** GetCrisisResources: no sign-in, no side effects, cacheable (Connect GET). */
export function crisisResourceHandlers(directory: CrisisResources): Partial<ServiceImpl<typeof SupportService>> {
  return {
    getCrisisResources: async (req, ctx) => {
      const d = await directory.get(req.regionCode, req.language);
      ctx.responseHeader.set('cache-control', `public, max-age=${MAX_AGE_SEC}`);
      return {
        regionCode: d.regionCode,
        emergencyNumber: d.emergencyNumber,
        resources: d.resources.map((r) => ({
          name: r.name,
          description: r.description,
          phone: r.phone,
          sms: r.sms,
          smsBody: r.sms_body,
          url: r.url,
          hours: r.hours,
          alwaysOpen: r.always_open,
          languages: r.languages,
        })),
      };
    },
  };
}
