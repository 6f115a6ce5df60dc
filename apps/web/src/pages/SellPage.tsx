import { useNavigate } from 'react-router';
import { api } from '../api.ts';
import { TicketForm } from '../components/TicketForm.tsx';
import { useTitle } from '../hooks.ts';

export function SellPage() {
  useTitle('Sell a ticket');
  const navigate = useNavigate();
  return (
    <section className="narrow card" aria-labelledby="sell-title">
      <h1 id="sell-title">Sell a ticket</h1>
      <p className="muted">
        Listed tickets appear on the home page right away. Buyers reserve a ticket, then pay for it.
      </p>
      <TicketForm
        submitLabel="List ticket"
        busyLabel="Listing…"
        onSubmit={async (input) => {
          const ticket = await api.createTicket(input);
          await navigate(`/tickets/${ticket.id}`, { state: { listed: true } });
        }}
      />
    </section>
  );
}
