/** The organisations detection names and addresses: names for titles, alliance bodies for recipients. */
import type { Store } from '../../store/index.js';

export class Directory {
  #alliance: readonly string[] = [];
  #names = new Map<string, string>();
  #short = new Map<string, string>();

  async refresh(store: Store): Promise<void> {
    const orgs = await store.listOrganisations();
    this.#alliance = orgs.filter((o) => o.kind === 'alliance-body').map((o) => o.id);
    this.#names = new Map(orgs.map((o) => [o.id, o.name]));
    this.#short = new Map(orgs.map((o) => [o.id, o.shortName]));
  }

  /** Alliance bodies (the CSIRT...): recipients of alerts and sightings their release allows. */
  get alliance(): readonly string[] {
    return this.#alliance;
  }

  orgName(id: string): string | null {
    return this.#names.get(id) ?? null;
  }

  /** Short name of an organisation (ALD-CERT), for readable titles; the id when unknown. */
  shortName(id: string): string {
    return this.#short.get(id) ?? id;
  }
}
