import { Code, ConnectError } from '@connectrpc/connect';
import { type Caller, type Identity, presenceSharingTopic } from '@hearth/authz';
import { type Database, type EventPublisher, assertVersion, isUniqueViolation } from '@hearth/db';
import { blockStore } from '../store/blocks.js';
import { type ProfilePatch, profileStore } from '../store/profiles.js';
import type { ProfileRow, SettingsRow, UsersTables } from '../store/schema.js';
import { type SettingsPatch, settingsStore } from '../store/settings.js';
import {
  type ProfileView,
  handleVariants,
  isMediaUrl,
  normalizeHandle,
  restrictedViewer,
  userNotFound,
  viewOf,
} from './model.js';

export interface ProfilesDeps {
  readonly db: Database<UsersTables>;
  readonly bus: EventPublisher;
  readonly now: () => Date;
  /** Host names avatars may be served from (HEARTH_USER_MEDIA_HOSTS). */
  readonly mediaHosts: readonly string[];
}

export type Lookup = { readonly userId: string } | { readonly handle: string };

export interface ProfileChange {
  readonly version: number;
  readonly handle?: string | undefined;
  readonly displayName?: string | undefined;
  readonly bio?: string | undefined;
  readonly pronouns?: string | undefined;
  readonly avatarUrl?: string | undefined;
}

export type SettingsChange = { readonly version: number } & Omit<SettingsPatch, 'update_time'>;

export interface NewUser {
  readonly userId: string;
  readonly handle: string;
  readonly displayName: string;
}

const HANDLE_INDEX = 'profiles_handle_key';
/** Variants looked up per round trip when a handle is taken. */
const VARIANT_BATCH = 50;
const MAX_CREATE_ROUNDS = 40;

/** Profiles and settings: reading them (with blocks and privacy applied), changing them, creating them. */
export class Profiles {
  constructor(private readonly d: ProfilesDeps) {}

  async getMe(identity: Identity): Promise<{ profile: ProfileView; settings: SettingsRow }> {
    const db = this.d.db.db;
    const [row, settings] = await Promise.all([profileStore.findById(db, identity.userId), settingsStore.find(db, identity.userId)]);
    if (!row || !settings) throw new ConnectError('profile not found', Code.NotFound);
    return { profile: viewOf(row), settings };
  }

  /**
   * Hidden profiles answer NotFound, exactly like missing ones, so a lookup never tells that a
   * person exists but blocked you or turned discovery off.
   */
  async getProfile(caller: Caller, lookup: Lookup): Promise<ProfileView> {
    const db = this.d.db.db;
    const byHandle = 'handle' in lookup;
    const row = byHandle ? await profileStore.findByHandle(db, normalizeHandle(lookup.handle)) : await profileStore.findById(db, lookup.userId);
    // A deleted account's handle stays reserved until the purge but no longer finds it.
    if (!row || (byHandle && row.state === 'deleted')) throw userNotFound();
    const me = restrictedViewer(caller);
    if (me === undefined || me === row.id) return viewOf(row);
    if ((await blockStore.blockedAmong(db, me, [row.id])).size > 0) throw userNotFound();
    if (byHandle) {
      const settings = await settingsStore.find(db, row.id);
      if (settings && !settings.discoverable_by_handle) throw userNotFound();
    }
    return viewOf(row);
  }

  /** Missing and hidden ids are left out; deleted accounts are in, with empty display fields. */
  async getProfiles(caller: Caller, ids: readonly string[]): Promise<ProfileView[]> {
    const db = this.d.db.db;
    const rows = await profileStore.findMany(db, ids);
    const me = restrictedViewer(caller);
    if (me === undefined) return rows.map(viewOf);
    const hidden = await blockStore.blockedAmong(
      db,
      me,
      rows.map((r) => r.id).filter((id) => id !== me),
    );
    return rows.filter((r) => !hidden.has(r.id)).map(viewOf);
  }

  async updateProfile(identity: Identity, change: ProfileChange): Promise<ProfileView> {
    if (change.avatarUrl && !isMediaUrl(change.avatarUrl, this.d.mediaHosts)) {
      throw new ConnectError(`avatar_url must be on a Hearth media host (${this.d.mediaHosts.join(', ')})`, Code.InvalidArgument);
    }
    const handle = change.handle === undefined ? undefined : normalizeHandle(change.handle);
    const patch: ProfilePatch = {
      ...(handle === undefined ? {} : { handle }),
      ...(change.displayName === undefined ? {} : { display_name: change.displayName }),
      ...(change.bio === undefined ? {} : { bio: change.bio }),
      ...(change.pronouns === undefined ? {} : { pronouns: change.pronouns }),
      ...(change.avatarUrl === undefined ? {} : { avatar_url: change.avatarUrl }),
      update_time: this.d.now(),
    };
    try {
      const row = await this.d.db.transaction(async (tx) => {
        const current = await lockEditable(tx, identity.userId, change.version);
        if (handle !== undefined && handle !== current.handle) {
          const holder = await profileStore.findByHandle(tx, handle);
          if (holder) throw handleTaken();
        }
        return profileStore.update(tx, identity.userId, patch);
      });
      return viewOf(row);
    } catch (err) {
      // Two people claiming the same free handle at once: the unique index decides.
      if (isUniqueViolation(err, HANDLE_INDEX)) throw handleTaken();
      throw err;
    }
  }

  async updateSettings(identity: Identity, change: SettingsChange): Promise<SettingsRow> {
    const { version, ...fields } = change;
    return this.d.db.transaction(async (tx) => {
      const current = await settingsStore.find(tx, identity.userId, { forUpdate: true });
      if (!current) throw new ConnectError('profile not found', Code.NotFound);
      assertVersion('settings', current.version, BigInt(version));
      const updated = await settingsStore.update(tx, identity.userId, { ...fields, update_time: this.d.now() });
      if (updated.show_presence !== current.show_presence) {
        tx.onCommit(() => this.d.bus.publish(presenceSharingTopic, { userId: identity.userId, sharing: updated.show_presence }));
      }
      return updated;
    });
  }

  /** Which of `userIds` share their presence with their circles (CheckPresenceSharing). */
  async presenceSharing(userIds: readonly string[]): Promise<Set<string>> {
    return settingsStore.sharingPresence(this.d.db.db, userIds);
  }

  /**
   * Idempotent by user id: a repeat returns the profile already created, whatever its handle.
   * A taken handle gets the first free variant; the insert itself decides races, and a lost one
   * moves on to the next free variant.
   */
  async createUser(input: NewUser): Promise<ProfileView> {
    const db = this.d.db.db;
    const base = normalizeHandle(input.handle);
    const displayName = input.displayName || input.handle;
    let from = 1;
    for (let round = 0; round < MAX_CREATE_ROUNDS; round++) {
      const existing = await profileStore.findById(db, input.userId);
      if (existing) return viewOf(existing);
      const candidates = from === 1 ? [base, ...handleVariants(base, 1, VARIANT_BATCH - 1)] : handleVariants(base, from, VARIANT_BATCH);
      const taken = await profileStore.takenHandles(db, candidates);
      const handle = candidates.find((c) => !taken.has(c));
      if (!handle) {
        from += from === 1 ? VARIANT_BATCH - 1 : VARIANT_BATCH;
        continue;
      }
      const now = this.d.now();
      const created = await this.d.db.transaction(async (tx) => {
        const row: ProfileRow = {
          id: input.userId,
          handle,
          display_name: displayName,
          bio: '',
          pronouns: '',
          avatar_url: '',
          state: 'active',
          roles: ['user'],
          version: 1,
          create_time: now,
          update_time: now,
          delete_time: null,
          purge_after: null,
        };
        if (!(await profileStore.insert(tx, row))) return undefined;
        await settingsStore.insertDefaults(tx, input.userId);
        return row;
      });
      if (created) return viewOf(created);
      // Lost a race for the id (a concurrent repeat: the next round returns it) or the handle.
    }
    throw new ConnectError('no free handle variant found; try another handle', Code.ResourceExhausted);
  }
}

/** The caller's own profile, locked, at `version` and not deleted. */
async function lockEditable(tx: Parameters<typeof profileStore.findById>[0], userId: string, version: number): Promise<ProfileRow> {
  const current = await profileStore.findById(tx, userId, { forUpdate: true });
  if (!current) throw new ConnectError('profile not found', Code.NotFound);
  if (current.state === 'deleted') throw new ConnectError('the account is deleted', Code.FailedPrecondition);
  assertVersion('profile', current.version, BigInt(version));
  return current;
}

const handleTaken = (): ConnectError => new ConnectError('handle is taken', Code.AlreadyExists);
