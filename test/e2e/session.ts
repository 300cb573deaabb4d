/** Signed-in demo users for the browser tests: a REST token for set-up and a signed-in page. */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { rest } from './harness.js';
import type { DemoUser, RunningServer } from './harness.js';

export interface DemoActor { user: DemoUser; token: string; orgId: string; short: string }

/** A demo user of the running server with a REST session token, its organisation and short name. */
export async function demoActor(server: RunningServer, username: string): Promise<DemoActor> {
  const user = server.users.find((u) => u.username === username);
  if (!user) throw new Error(`the demo alliance has no user ${username}`);
  const { token } = await rest<{ token: string }>(server.baseUrl, '/auth/login', { method: 'POST', body: { username: user.username, password: user.password } });
  const me = await rest<{ user: { orgId: string }; organisation: { shortName: string } }>(server.baseUrl, '/me', { token });
  return { user, token, orgId: me.user.orgId, short: me.organisation.shortName };
}

/** A fresh browser context signed in through the sign-in form, then at `hash`. */
export async function openSignedIn(env: { browser: Browser; server: RunningServer }, a: DemoActor, hash = '#/'): Promise<{ ctx: BrowserContext; page: Page }> {
  const { browser, server } = env;
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${server.baseUrl}/`);
  await page.getByLabel('Username').fill(a.user.username);
  await page.getByLabel('Password').fill(a.user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('whoami').waitFor();
  if (hash !== '#/') await page.goto(`${server.baseUrl}/${hash}`);
  return { ctx, page };
}
