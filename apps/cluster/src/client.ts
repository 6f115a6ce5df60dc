/** A marketplace user over HTTP, with a cookie jar: for workloads, benchmarks and tests. */
import { randomUUID } from 'node:crypto';

export interface Reply<T> {
  status: number;
  body: T;
}

export class HttpUser {
  private cookie = '';
  readonly email = `user-${randomUUID()}@example.test`;

  constructor(private readonly baseUrl: string) {}

  get sessionCookie(): string {
    return this.cookie;
  }

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<Reply<T>> {
    const response = await fetch(this.baseUrl + path, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), cookie: this.cookie },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0]!;
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (a proxy error page): keep the text
    }
    return { status: response.status, body: parsed as T };
  }

  async signUp(): Promise<this> {
    const { status, body } = await this.request('POST', '/api/users/signup', {
      email: this.email,
      password: 'correct horse',
    });
    if (status !== 201) throw new Error(`signup failed: ${status} ${JSON.stringify(body)}`);
    return this;
  }
}
