/**
 * The renderer's Content-Security-Policy, sent as a header by both shells (and repeated in
 * renderer/index.html's meta tag; a test keeps the two equal). Nothing inline, nothing remote.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');
