import { type CounterBackend, WriteBudget } from '@hearth/platform';

export interface PostLimitsConfig {
  readonly writesPerMinute: number;
  readonly reactionsPerMinute: number;
}

/**
 * Abuse limits on post writes (post_service.proto: writes are rate limited per user):
 * posts and responses, new or edited, share one budget; reactions have their own. Deleting is
 * never limited. Checked before a write, counted after it commits (WriteBudget).
 */
export class PostLimits {
  readonly writes: WriteBudget;
  readonly reactions: WriteBudget;

  constructor(backend: CounterBackend, config: PostLimitsConfig, available: () => boolean = () => true) {
    this.writes = new WriteBudget(
      backend,
      { name: 'post_write', points: config.writesPerMinute, durationSec: 60, refusal: `at most ${config.writesPerMinute} posts and responses a minute; wait a moment` },
      available,
    );
    this.reactions = new WriteBudget(
      backend,
      { name: 'post_reaction', points: config.reactionsPerMinute, durationSec: 60, refusal: `at most ${config.reactionsPerMinute} reactions a minute; wait a moment` },
      available,
    );
  }
}
