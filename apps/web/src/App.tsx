import { Route, Routes } from 'react-router';
import { Header } from './components/Header.tsx';
import { AccountPage } from './pages/AccountPage.tsx';
import { AuthPage } from './pages/AuthPage.tsx';
import { HomePage } from './pages/HomePage.tsx';
import { MyTicketsPage } from './pages/MyTicketsPage.tsx';
import { NotFound } from './pages/NotFoundPage.tsx';
import { OrderPage } from './pages/OrderPage.tsx';
import { OrdersPage } from './pages/OrdersPage.tsx';
import { SalesPage } from './pages/SalesPage.tsx';
import { SellPage } from './pages/SellPage.tsx';
import { TicketPage } from './pages/TicketPage.tsx';
import { RequireUser } from './session.tsx';

export function App() {
  return (
    <>
      <Header />
      <main className="container main">
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
      </main>
      <footer className="site-footer">
        <div className="container">Ticketing · an open-source ticket resale marketplace</div>
      </footer>
    </>
  );
}
