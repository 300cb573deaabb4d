export { TaxiiService, TAXII_MEDIA, STIX_MEDIA } from './service.js';
export type { ObjectRef, StatusResource, TaxiiOptions, TaxiiPage } from './service.js';
export { taxiiRoutes, acceptsTaxii } from './routes.js';
export { parseTaxiiQuery } from './filters.js';
export type { TaxiiFilter } from './filters.js';
