/** The MSEL and team A's detection content both exercise e2e suites run (REST and Chromium). */
export const MSEL = [
  'serial,time,type,teams,title,content,technique,expectation type,expectation expiry,depends on,condition',
  '1,T+00:00,communication,ALD-CERT;BRN-CYBERCOM,Exercise start,Welcome to Coalition Shield. Watch your sensors.,,,,,',
  '2,T+00:10,technical,ALD-CERT;BRN-CYBERCOM,Credential dumping on the domain controller,LSASS memory access,T1003.001,DETECTION,20m,,',
  '3,T+00:40,communication,ALD-CERT;BRN-CYBERCOM,CISO escalation call,Why did nobody see the credential dumping?,,REPORT,3h,2,Detection failed',
  '4,T+00:45,prompt,ALD-CERT;BRN-CYBERCOM,Situation report,Publish a situation report on the intrusion,,REPORT,3h,,',
].join('\n');
/** A's own detection content for the inject's telemetry (AMBER: Brenova has no such rule). */
export const A_RULE = `title: Exercise credential dumping loader
id: 5b0e4a9c-3c1e-4f0e-9a55-0c7f1b2d3e4f
status: experimental
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    CommandLine|contains: 'T1003.001'
  condition: selection
level: high
tags:
  - attack.credential-access
  - attack.t1003.001
`;
