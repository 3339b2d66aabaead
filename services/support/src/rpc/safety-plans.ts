import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import { requireIdentity } from '@hearth/authz';
import type { SupportService } from '@hearth/contracts/gen/hearth/support/v1/support_service_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { SafetyPlanSchema } from '@hearth/contracts/gen/hearth/support/v1/resources_pb.js';
import type { SafetyPlan, SafetyPlans } from '../service/safety-plans.js';

type Handlers = Partial<ServiceImpl<typeof SupportService>>;

/** The caller's own plan: the token's subject, never a request field. */
const owner = (ctx: HandlerContext) => requireIdentity(ctx).userId;

function planMessage(p: SafetyPlan): MessageInitShape<typeof SafetyPlanSchema> {
  return {
    warningSigns: [...p.warningSigns],
    copingStrategies: [...p.copingStrategies],
    reasonsForLiving: [...p.reasonsForLiving],
    peopleToContact: p.peopleToContact.map((c) => ({ name: c.name, phone: c.phone })),
    professionals: p.professionals.map((c) => ({ name: c.name, phone: c.phone })),
    safeEnvironment: [...p.safeEnvironment],
    version: p.version,
    ...(p.updateTime ? { updateTime: timestampFromDate(p.updateTime) } : {}),
  };
}

/** GetSafetyPlan, UpdateSafetyPlan and DeleteSafetyPlan. */
export function safetyPlanHandlers(plans: SafetyPlans): Handlers {
  return {
    getSafetyPlan: async (_req, ctx) => ({ plan: planMessage(await plans.get(owner(ctx))) }),
    updateSafetyPlan: async (req, ctx) => ({
      plan: planMessage(
        await plans.update(owner(ctx), req.version, {
          warningSigns: req.warningSigns,
          copingStrategies: req.copingStrategies,
          reasonsForLiving: req.reasonsForLiving,
          peopleToContact: req.peopleToContact.map((c) => ({ name: c.name, phone: c.phone })),
          professionals: req.professionals.map((c) => ({ name: c.name, phone: c.phone })),
          safeEnvironment: req.safeEnvironment,
        }),
      ),
    }),
    deleteSafetyPlan: async (_req, ctx) => {
      await plans.delete(owner(ctx));
      return {};
    },
  };
}
