import type { Migrations } from '@hearth/db';
import * as safetyPlans from './2026-12-01-0001-safety-plans.js';
import * as crisisResources from './2026-12-01-0002-crisis-resources.js';
import * as supportRequests from './2026-12-01-0003-support-requests.js';
import * as supportOffers from './2026-12-01-0004-support-offers.js';

/**
 * The support schema's migrations, in the order they apply (keys sort by timestamp). Each one is
 * immutable once merged: change the schema with a new entry, never by editing an old one.
 */
export const migrations: Migrations = {
  '2026_12_01_0001_safety_plans': safetyPlans,
  '2026_12_01_0002_crisis_resources': crisisResources,
  '2026_12_01_0003_support_requests': supportRequests,
  '2026_12_01_0004_support_offers': supportOffers,
};
