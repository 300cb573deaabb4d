export { TaxiiService, TAXII_MEDIA, STIX_MEDIA, ENVELOPES_HEADER } from './service.js';
export type { StatusResource, TaxiiOptions, TaxiiPage } from './service.js';
export { taxiiRoutes, acceptsTaxii } from './routes.js';
export { parseTaxiiQuery } from './filters.js';
export type { TaxiiFilter } from './filters.js';
export { TaxiiClient, TaxiiClientError, TAXII_MEDIA_TYPE, nextQuery, queryString, refusedAddress } from './client.js';
export type {
  CallOptions, ManifestEntry, ObjectQuery, TaxiiAuth, TaxiiClientOptions, TaxiiCollection, TaxiiErrorMessage, TaxiiPage as TaxiiClientPage,
  TaxiiQuery, TaxiiStatus, TaxiiTlsOptions, VersionsQuery,
} from './client.js';
