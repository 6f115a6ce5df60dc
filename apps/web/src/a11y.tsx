/**
 * What a screen reader or keyboard user needs from a single-page app that a browser gives a site
 * of pages by itself:
 *
 * - `Announcer`: two visually hidden live regions, polite and assertive, that `useAnnounce()`
 *   speaks through: outcomes (payment received, reservation expired) and errors (a declined card)
 *   that appear without a page load or outside where focus is.
 * - `RouteFocus`: after each move to another page (a link, a redirect, back), the new page's
 *   heading takes focus, so its name is read and Tab continues from the top of the page. A page
 *   that loads its data first gets focus on its heading once the heading shows; focus someone
 *   already put elsewhere on the new page is left there.
 * - `SkipLink`: "Skip to main content", the first thing Tab reaches.
 */
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { useLocation } from 'react-router';

export type Politeness = 'polite' | 'assertive';
type Announce = (message: string, politeness?: Politeness) => void;

const AnnounceContext = createContext<Announce>(() => undefined);

/** Speaks `message` through the page's live region (polite unless said otherwise). */
export const useAnnounce = (): Announce => useContext(AnnounceContext);

export function Announcer({ children }: { children: ReactNode }) {
  const [messages, setMessages] = useState<Record<Politeness, string>>({ polite: '', assertive: '' });
  const timers = useRef<number[]>([]);
  const announce = useCallback<Announce>((message, politeness = 'polite') => {
    // Emptied first, then filled a moment later: the same words twice are announced twice.
    setMessages((current) => ({ ...current, [politeness]: '' }));
    timers.current.push(
      window.setTimeout(() => setMessages((current) => ({ ...current, [politeness]: message })), 100),
    );
  }, []);
  useEffect(() => () => timers.current.forEach((timer) => clearTimeout(timer)), []);
  return (
    <AnnounceContext.Provider value={announce}>
      {children}
      {/* Live regions without a role: the page's own alerts and statuses keep theirs to themselves. */}
      <div className="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="announce-polite">
        {messages.polite}
      </div>
      <div
        className="visually-hidden"
        aria-live="assertive"
        aria-atomic="true"
        data-testid="announce-assertive"
      >
        {messages.assertive}
      </div>
    </AnnounceContext.Provider>
  );
}

/** The main landmark's id, which the skip link points to. */
export const MAIN_ID = 'main';

/** Moves focus to the page's heading (made focusable by script only), else to the main landmark. */
export function focusPageStart(): boolean {
  const main = document.getElementById(MAIN_ID);
  const heading = main?.querySelector<HTMLElement>('h1');
  const target = heading ?? main;
  if (!target) return false;
  if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
  target.focus();
  return Boolean(heading);
}

/** How long a page may take to show its heading after a move before focus stops waiting for it. */
const WAIT_FOR_HEADING_MS = 10_000;

export function RouteFocus() {
  const { pathname } = useLocation();
  const first = useRef(true);
  useEffect(() => {
    // The first page is the browser's own load: focus starts at the top of the document as usual.
    if (first.current) {
      first.current = false;
      return;
    }
    const main = document.getElementById(MAIN_ID);
    if (!main) return;
    // Focus that is on the new page already (a field someone clicked into) stays there.
    const untouched = () => {
      const active = document.activeElement;
      return (
        !active ||
        active === document.body ||
        !active.isConnected ||
        !main.contains(active) ||
        active === main
      );
    };
    if (main.querySelector('h1')) {
      focusPageStart();
      return;
    }
    const observer = new MutationObserver(() => {
      if (!main.querySelector('h1')) return;
      stop();
      if (untouched()) focusPageStart();
    });
    const timer = window.setTimeout(() => stop(), WAIT_FOR_HEADING_MS);
    function stop() {
      observer.disconnect();
      clearTimeout(timer);
    }
    observer.observe(main, { childList: true, subtree: true });
    return stop;
  }, [pathname]);
  return null;
}

export function SkipLink() {
  return (
    <a
      href={`#${MAIN_ID}`}
      className="skip-link"
      onClick={(event) => {
        event.preventDefault();
        focusPageStart();
      }}
    >
      Skip to main content
    </a>
  );
}
