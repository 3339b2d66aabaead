import MarkdownIt from 'markdown-it';
import sanitizeHtml from 'sanitize-html';

/**
 * Bumped whenever rendering changes, so HTML stored with an older version is rendered again
 * from the source when read.
 */
export const RENDERER_VERSION = 1;

/**
 * The markdown subset posts are written in: CommonMark's paragraphs, emphasis, strikethrough,
 * lists, block quotes, code, headings and links (bare URLs linked too), line breaks kept as
 * typed. Raw HTML in the source is shown as text, and images are not rendered (a post cannot
 * make the reader's app fetch a URL).
 */
const markdown = new MarkdownIt('commonmark', { html: false, linkify: true, breaks: true })
  .enable(['linkify', 'strikethrough'])
  .disable(['image']);

/**
 * The allow-list every rendered body passes through, whatever the markdown library emits: only
 * these tags and attributes survive, links only to absolute http(s) and mailto URLs (others
 * keep their text and lose their target), and every link opens apart from the app without
 * telling the target where it came from.
 */
const SANITIZE: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'br', 'em', 'strong', 's', 'del', 'ul', 'ol', 'li', 'blockquote', 'code', 'pre', 'a', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr'],
  allowedAttributes: { a: ['href', 'rel', 'target'], ol: ['start'] },
  allowedSchemes: ['https', 'http', 'mailto'],
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  transformTags: {
    // Only absolute links: a relative one would open a page of the app's own origin.
    a: (_tag, attribs) => {
      const href = attribs.href ?? '';
      const absolute = /^(https?:\/\/|mailto:)/i.test(href);
      const kept: Record<string, string> = absolute ? { href, rel: 'nofollow noopener noreferrer ugc', target: '_blank' } : {};
      return { tagName: 'a', attribs: kept };
    },
  },
};

/** A post or response body as safe HTML (the API returns it beside the markdown source). */
export function renderBody(source: string): string {
  return sanitizeHtml(markdown.render(source), SANITIZE);
}
