import { type PageTokens, pageField } from '@hearth/db';

/** The page tokens of the circle service's lists, one codec per list (see @hearth/db PageTokens). */
export function circlePages(tokens: PageTokens) {
  const timeAndId = { t: pageField.time(), id: pageField.id() };
  return {
    myCircles: tokens.codec('circle.my-circles', timeAndId),
    discover: tokens.codec('circle.discover', timeAndId),
    invites: tokens.codec('circle.invites', { t: pageField.time(), code: pageField.text(32) }),
    members: tokens.codec('circle.members', { r: pageField.int(1, 3), ...timeAndId }),
    bans: tokens.codec('circle.bans', timeAndId),
    thread: tokens.codec('chat.thread', { seq: pageField.int(1) }),
    pins: tokens.codec('chat.pins', timeAndId),
    mentions: tokens.codec('chat.mentions', timeAndId),
    unread: tokens.codec('chat.unread', { id: pageField.id() }),
  };
}

export type CirclePages = ReturnType<typeof circlePages>;
