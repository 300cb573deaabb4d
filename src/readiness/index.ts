/**
 * The readiness domain (issue #12): self-assessment against frameworks, hygiene audits,
 * recovery of vital functions, yearly reports. The exposure side (inventory, CVE/KEV/EPSS,
 * CSAF) lives in readiness/exposure and is wired here too when present.
 */
import type { IncidentService, RespondDeps } from '../respond/index.js';
import { AssessmentService } from './assessment/service.js';
import { AuditService } from './audit/service.js';
import { RecoveryService } from './recovery/service.js';
import { ReportService } from './report.js';

export interface Readiness {
  assessments: AssessmentService;
  audits: AuditService;
  recovery: RecoveryService;
  reports: ReportService;
}

export function createReadiness(deps: RespondDeps, incidents: IncidentService): Readiness {
  const assessments = new AssessmentService(deps);
  const audits = new AuditService(deps, assessments);
  const recovery = new RecoveryService(deps, incidents);
  const orgName = async (id: string) => (await deps.store.getOrganisation(id))?.name ?? null;
  return { assessments, audits, recovery, reports: new ReportService({ assessments, audits, recovery, orgName }) };
}

export { AssessmentService, scoresOf, FRAMEWORK, ASSESSMENT, ATTACHMENT, MAX_ATTACHMENT_BYTES } from './assessment/service.js';
export type { Aggregates, Answer, AnswerInput, AssessmentDoc, AssessmentView, Evidence, FunctionScore } from './assessment/service.js';
export { parseFramework, fromCprt, fromCis, fromShieldwall, CSF_TIERS, MATURITY_0_5 } from './assessment/framework.js';
export type { Framework, FrameworkItem, Scale } from './assessment/framework.js';
export { PLEDGE_FRAMEWORK } from './assessment/pledge.js';
export { distribution, standing, nearestRank, MIN_FOR_MEDIAN, MIN_FOR_QUARTILES } from './assessment/stats.js';
export { AuditService, SEVERITIES, FINDING_STATUSES, CHECK_RESULTS, AUDIT_PLAN, FINDING } from './audit/service.js';
export type { AuditView, FindingView, FindingStatus, Severity, CheckResult } from './audit/service.js';
export { RecoveryService, VITAL_FUNCTION } from './recovery/service.js';
export type { VitalFunctionView, Recovery } from './recovery/service.js';
export { ReportService, memberPdf, alliancePdf } from './report.js';
export type { MemberReport, AllianceSummary } from './report.js';
export { createReadinessDemo } from './demo.js';
// The exposure side (inventory, CVE/KEV/EPSS, exposures, CSAF advisories): src/readiness/exposure.
export { createExposure } from './exposure/index.js';
export type { ExposureModule } from './exposure/index.js';
