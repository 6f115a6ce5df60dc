/** Small hooks the pages share: loading data, the document title. */
import { useCallback, useEffect, useState } from 'react';
import { ApiError } from './api.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
  /** Replaces the data in place (after a save, a poll) without a loading flash. */
  setData: (data: T) => void;
}

const asApiError = (error: unknown) =>
  error instanceof ApiError ? error : new ApiError(0, [{ message: String(error) }]);

/**
 * Runs `load` when `key` changes (and on `reload()`); answers of superseded runs are dropped, and
 * data loaded for another key is never shown for this one (no old ticket on a new ticket's page).
 */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ key: string; data?: T; error?: ApiError; loading: boolean }>({
    key,
    loading: true,
  });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let live = true;
    setState((previous) => (previous.key === key ? { ...previous, loading: true } : { key, loading: true }));
    load().then(
      (data) => live && setState({ key, data, loading: false }),
      (error: unknown) => live && setState({ key, error: asApiError(error), loading: false }),
    );
    return () => {
      live = false;
    };
    // `load` is a new closure every render; `key` says when it asks for something else.
  }, [key, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const setData = useCallback((data: T) => setState({ key, data, loading: false }), [key]);
  const current = state.key === key;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    loading: !current || state.loading,
    reload,
    setData,
  };
}

export function useTitle(title: string | undefined): void {
  useEffect(() => {
    document.title = title ? `${title} · Ticketing` : 'Ticketing';
  }, [title]);
}
