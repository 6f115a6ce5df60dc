import { lazy, Suspense } from 'react';
import { Route, Routes } from 'react-router';
import { Announcer, MAIN_ID, RouteFocus, SkipLink } from './a11y.tsx';
import { Header } from './components/Header.tsx';
import { HomePage } from './pages/HomePage.tsx';
import { NotFound } from './pages/NotFoundPage.tsx';
import { RequireUser } from './session.tsx';

// The home page is in the main bundle; every other page's code is fetched when it is first
// visited, so the home page paints before the order, sell and ticket pages' code arrives.
const AccountPage = lazy(async () => ({ default: (await import('./pages/AccountPage.tsx')).AccountPage }));
const AuthPage = lazy(async () => ({ default: (await import('./pages/AuthPage.tsx')).AuthPage }));
const MyTicketsPage = lazy(async () => ({
  default: (await import('./pages/MyTicketsPage.tsx')).MyTicketsPage,
}));
const OrderPage = lazy(async () => ({ default: (await import('./pages/OrderPage.tsx')).OrderPage }));
const OrdersPage = lazy(async () => ({ default: (await import('./pages/OrdersPage.tsx')).OrdersPage }));
const ReceiptPage = lazy(async () => ({ default: (await import('./pages/ReceiptPage.tsx')).ReceiptPage }));
const SalesPage = lazy(async () => ({ default: (await import('./pages/SalesPage.tsx')).SalesPage }));
const SellPage = lazy(async () => ({ default: (await import('./pages/SellPage.tsx')).SellPage }));
const TicketPage = lazy(async () => ({ default: (await import('./pages/TicketPage.tsx')).TicketPage }));

export function App() {
  return (
    <Announcer>
      <SkipLink />
      <RouteFocus />
      <Header />
      <main id={MAIN_ID} className="container main" tabIndex={-1}>
        <Suspense fallback={<p className="muted loading">Loading…</p>}>
          <Routes>
            <Route path="/" element={<HomePage />} />
            <Route path="/auth/signup" element={<AuthPage key="signup" mode="signup" />} />
            <Route path="/auth/signin" element={<AuthPage key="signin" mode="signin" />} />
            <Route
              path="/tickets/new"
              element={
                <RequireUser>
                  <SellPage />
                </RequireUser>
              }
            />
            <Route
              path="/tickets/mine"
              element={
                <RequireUser>
                  <MyTicketsPage />
                </RequireUser>
              }
            />
            <Route path="/tickets/:id" element={<TicketPage />} />
            <Route
              path="/orders"
              element={
                <RequireUser>
                  <OrdersPage />
                </RequireUser>
              }
            />
            <Route
              path="/orders/:id"
              element={
                <RequireUser>
                  <OrderPage />
                </RequireUser>
              }
            />
            <Route
              path="/orders/:id/receipt"
              element={
                <RequireUser>
                  <ReceiptPage />
                </RequireUser>
              }
            />
            <Route
              path="/sales"
              element={
                <RequireUser>
                  <SalesPage />
                </RequireUser>
              }
            />
            <Route path="/account" element={<AccountPage />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </main>
      <footer className="site-footer">
        <div className="container">Ticketing · an open-source ticket resale marketplace</div>
      </footer>
    </Announcer>
  );
}
