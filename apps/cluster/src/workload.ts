/**
 * A mixed marketplace workload for fault tests: sellers list and reprice tickets, buyers order,
 * pay (sometimes with a declined card) and cancel, and some orders are left to expire. Every
 * request's status is counted; errors during an outage are expected and only counted.
 */
import { HttpUser } from './client.ts';

export interface WorkloadStats {
  requests: number;
  byStatus: Record<number, number>;
  ordersCreated: number;
  payments: number;
  cancellations: number;
  updates: number;
  failures: number;
}

type Ticket = { id: string };
type Order = { id: string; status: string };

export interface Workload {
  stats: WorkloadStats;
  stop(): Promise<WorkloadStats>;
}

export async function startWorkload(
  baseUrl: string,
  options: { sellers?: number; ticketsPerSeller?: number; buyers?: number; pauseMs?: number } = {},
): Promise<Workload> {
  const stats: WorkloadStats = {
    requests: 0,
    byStatus: {},
    ordersCreated: 0,
    payments: 0,
    cancellations: 0,
    updates: 0,
    failures: 0,
  };
  const sellers = await Promise.all(
    Array.from({ length: options.sellers ?? 3 }, () => new HttpUser(baseUrl).signUp()),
  );
  const buyers = await Promise.all(
    Array.from({ length: options.buyers ?? 8 }, () => new HttpUser(baseUrl).signUp()),
  );
  const listings: { seller: HttpUser; ticket: Ticket }[] = [];
  for (const seller of sellers) {
    for (let i = 0; i < (options.ticketsPerSeller ?? 15); i++) {
      const { status, body } = await seller.request<Ticket>('POST', '/api/tickets', {
        title: `show ${i}`,
        price: 10 + i,
      });
      if (status === 201) listings.push({ seller, ticket: body });
    }
  }

  const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!;
  const count = (status: number) => {
    stats.requests += 1;
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
  };
  let running = true;

  const buyerLoop = async (buyer: HttpUser) => {
    const mine: Order[] = [];
    while (running) {
      try {
        const roll = Math.random();
        if (roll < 0.45 || mine.length === 0) {
          const { status, body } = await buyer.request<Order>('POST', '/api/orders', {
            ticketId: pick(listings).ticket.id,
          });
          count(status);
          if (status === 201) {
            stats.ordersCreated += 1;
            mine.push(body);
          }
        } else {
          const order = mine.splice(Math.floor(Math.random() * mine.length), 1)[0]!;
          if (roll < 0.8) {
            const token = Math.random() < 0.15 ? 'tok_chargeDeclined' : 'tok_visa';
            const { status } = await buyer.request('POST', '/api/payments', { orderId: order.id, token });
            count(status);
            if (status === 201) stats.payments += 1;
          } else if (roll < 0.92) {
            const { status } = await buyer.request('DELETE', `/api/orders/${order.id}`);
            count(status);
            if (status === 204) stats.cancellations += 1;
          } // else: left to expire
        }
      } catch {
        stats.failures += 1; // connection reset, timeout: expected while a replica dies
      }
      await new Promise((resolve) => setTimeout(resolve, options.pauseMs ?? 20));
    }
  };

  const sellerLoop = async (seller: HttpUser) => {
    const own = listings.filter((l) => l.seller === seller);
    while (running) {
      try {
        const { status } = await seller.request('PUT', `/api/tickets/${pick(own).ticket.id}`, {
          title: `show ${Math.floor(Math.random() * 1000)}`,
          price: 5 + Math.floor(Math.random() * 50),
        });
        count(status);
        if (status === 200) stats.updates += 1;
      } catch {
        stats.failures += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, (options.pauseMs ?? 20) * 3));
    }
  };

  const loops = [...buyers.map(buyerLoop), ...sellers.map(sellerLoop)];
  return {
    stats,
    async stop() {
      running = false;
      await Promise.all(loops);
      return stats;
    },
  };
}
