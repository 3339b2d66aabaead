/** The auth domain's records and names, as the store reads them; handlers map them (rpc/mappers.ts). */
export type { AccountState, FlowIntentName, IdentityRow, ProviderName } from '../store/schema.js';
