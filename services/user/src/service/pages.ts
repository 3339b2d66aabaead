import { type PageTokens, pageField } from '@hearth/db';

/** user_service.proto: page_size 0 means this. */
export const DEFAULT_PAGE_SIZE = 50;

/** The page tokens of the user service's lists, one codec per list (see @hearth/db PageTokens). */
export function userPages(tokens: PageTokens) {
  const timeAndId = { t: pageField.time(), id: pageField.id() };
  return {
    users: tokens.codec('user.users', timeAndId),
    blocks: tokens.codec('user.blocks', timeAndId),
  };
}

export type UserPages = ReturnType<typeof userPages>;
