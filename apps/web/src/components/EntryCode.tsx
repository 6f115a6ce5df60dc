/**
 * A ticket's door credential: a QR code for the scanner and the same code as text, for a door
 * that types it in. Only the owner can read it, and it changes with each owner, so it is asked
 * for again when the ticket changes hands.
 */
import { useEffect, useState } from 'react';
import { api, type Ticket } from '../api.ts';
import { useLoad } from '../hooks.ts';

/**
 * An SVG (sharp at any size, printable) as an image, so it carries an alt text like any picture.
 * The encoder is loaded with the first code, not with every page.
 */
async function qrImage(code: string): Promise<string> {
  const { default: QRCode } = await import('qrcode');
  const svg = await QRCode.toString(code, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

export function EntryCode({ ticket }: { ticket: Pick<Ticket, 'id' | 'title' | 'userId' | 'timesSold'> }) {
  const credential = useLoad(
    () => api.ticketCredential(ticket.id),
    `${ticket.id}:${ticket.userId}:${ticket.timesSold}`,
  );
  const code = credential.data?.code;
  const [image, setImage] = useState<{ code: string; src: string }>();
  useEffect(() => {
    if (!code) return;
    let live = true;
    qrImage(code).then(
      (src) => live && setImage({ code, src }),
      () => undefined, // no picture; the code is still there as text
    );
    return () => {
      live = false;
    };
  }, [code]);

  if (credential.error && !code) {
    return (
      <div className="alert alert-error" role="alert">
        <p>Could not load the entry code: {credential.error.message}</p>
        <button type="button" className="button button-secondary button-small" onClick={credential.reload}>
          Try again
        </button>
      </div>
    );
  }
  if (!code) return <p className="muted">Loading the entry code…</p>;
  return (
    <figure className="entry-code">
      {image?.code === code ? (
        <img src={image.src} width={168} height={168} alt={`QR code to enter with ${ticket.title}`} />
      ) : (
        <span className="entry-code-placeholder" aria-hidden="true" />
      )}
      <figcaption>
        <span className="entry-code-label">Entry code</span>
        <code className="entry-code-text">{code}</code>
      </figcaption>
    </figure>
  );
}
