/**
 * The fictional "Northwind Alliance": five member nations and the alliance CSIRT, their users,
 * sharing groups and collections. Every name here is invented for Shieldwall; the country
 * codes come from the ISO 3166-1 user-assigned range (XA–XE) so they can never clash with a
 * real nation.
 */
import type { OrgKind, Role } from '../../store/index.js';

export interface DemoOrg {
  key: string;
  name: string;
  shortName: string;
  country: string | null;
  kind: OrgKind;
  /** Lower-case prefix of the organisation's user names. */
  userPrefix: string;
  description: string;
  sectors: string[];
}

export const DEMO_ORGS: readonly DemoOrg[] = [
  {
    key: 'csirt', name: 'Northwind Alliance CSIRT', shortName: 'NWA-CSIRT', country: null, kind: 'alliance-body', userPrefix: 'csirt',
    description: 'Computer security incident response team of the Northwind Alliance; coordinates collective defence.', sectors: ['defense', 'government-national'],
  },
  {
    key: 'ald', name: 'Aldermark National CERT', shortName: 'ALD-CERT', country: 'XA', kind: 'member', userPrefix: 'ald',
    description: 'National computer emergency response team of the Kingdom of Aldermark.', sectors: ['government-national'],
  },
  {
    key: 'brn', name: 'Brenova Cyber Command', shortName: 'BRN-CYBERCOM', country: 'XB', kind: 'member', userPrefix: 'brn',
    description: 'Military cyber command of the Republic of Brenova.', sectors: ['defense'],
  },
  {
    key: 'crv', name: 'Corvania National Cyber Security Centre', shortName: 'CRV-NCSC', country: 'XC', kind: 'member', userPrefix: 'crv',
    description: 'National cyber security centre of the Federation of Corvania.', sectors: ['government-national', 'energy'],
  },
  {
    key: 'dsk', name: 'Duskmere Government CERT', shortName: 'DSK-CERT', country: 'XD', kind: 'member', userPrefix: 'dsk',
    description: 'Government CERT of the Grand Duchy of Duskmere.', sectors: ['government-national', 'telecommunications'],
  },
  {
    key: 'est', name: 'Estravia Cyber Defence Agency', shortName: 'EST-CDA', country: 'XE', kind: 'member', userPrefix: 'est',
    description: 'Cyber defence agency of the Commonwealth of Estravia.', sectors: ['defense', 'transportation'],
  },
];

export interface DemoUserSpec {
  suffix: string;
  displayRole: string;
  roles: Role[];
}

/** Every organisation gets these users; the alliance body also runs exercises (excon). */
export const DEMO_USER_SPECS: readonly DemoUserSpec[] = [
  { suffix: 'analyst', displayRole: 'Intelligence analyst', roles: ['analyst'] },
  { suffix: 'responder', displayRole: 'Incident responder', roles: ['responder', 'analyst'] },
  { suffix: 'rep', displayRole: 'National representative', roles: ['representative'] },
  { suffix: 'admin', displayRole: 'Administrator', roles: ['admin', 'analyst'] },
];
export const DEMO_EXCON: DemoUserSpec = { suffix: 'excon', displayRole: 'Exercise control', roles: ['excon', 'analyst'] };

export interface DemoGroup {
  key: string;
  name: string;
  description: string;
  owner: string;
  members: string[];
}

export const DEMO_GROUPS: readonly DemoGroup[] = [
  { key: 'north', name: 'Northern Flank', description: 'Members on the northern border sharing operational reporting.', owner: 'ald', members: ['ald', 'brn', 'crv'] },
  { key: 'maritime', name: 'Maritime Cyber Cell', description: 'Ports, shipping and undersea cable protection.', owner: 'dsk', members: ['dsk', 'est', 'csirt'] },
];

export interface DemoCollection {
  key: string;
  alias: string;
  title: string;
  description: string;
  /** Grants: '*' for every organisation, an org key or a group key prefixed with 'group:'. */
  grants: { to: string; read: boolean; write: boolean }[];
}

export const DEMO_COLLECTIONS: readonly DemoCollection[] = [
  {
    key: 'alliance', alias: 'alliance-intel', title: 'Alliance intel',
    description: 'Threat intelligence shared across the alliance; what each member sees follows TLP and recipients.',
    grants: [{ to: '*', read: true, write: true }],
  },
  {
    key: 'advisories', alias: 'csirt-advisories', title: 'Alliance CSIRT advisories',
    description: 'Reports and advisories published by the alliance CSIRT.',
    grants: [{ to: '*', read: true, write: false }, { to: 'csirt', read: true, write: true }],
  },
  {
    key: 'ald-national', alias: 'aldermark-national', title: 'Aldermark national reporting',
    description: 'National reporting of Aldermark, readable by the Northern Flank group.',
    grants: [{ to: 'ald', read: true, write: true }, { to: 'group:north', read: true, write: false }],
  },
];
