export { CircleApp, type CircleDeps, SCHEMA } from './app.js';
export { type CircleConfig, circleConfigSpec } from './config.js';
export { MEMBERSHIP_TOPIC, type MembershipChange, type MembershipEvent } from './service/events.js';
