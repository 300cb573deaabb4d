/**
 * STIX 2.1 vocabularies (§10). Open vocabularies (`-ov`) only produce warnings for values
 * outside them; enumerations (`-enum`) are closed and produce errors.
 */
const w = (s: string): readonly string[] => s.trim().split(/\s+/);

export const ATTACK_MOTIVATION_OV = w(`accidental coercion dominance ideology notoriety organizational-gain
  personal-gain personal-satisfaction revenge unpredictable`);
export const ATTACK_RESOURCE_LEVEL_OV = w('individual club contest team organization government');
export const GROUPING_CONTEXT_OV = w('suspicious-activity malware-analysis unspecified');
export const IDENTITY_CLASS_OV = w('individual group system organization class unknown');
export const IMPLEMENTATION_LANGUAGE_OV = w(`applescript bash c c++ c# go java javascript lua objective-c perl php
  powershell python ruby scala swift typescript visual-basic x86-32 x86-64`);
export const INDICATOR_TYPE_OV = w('anomalous-activity anonymization benign compromised malicious-activity attribution unknown');
export const INDUSTRY_SECTOR_OV = w(`agriculture aerospace automotive chemical commercial communications construction
  defense education energy entertainment financial-services government government-emergency-services
  government-local government-national government-public-services government-regional healthcare
  hospitality-leisure infrastructure infrastructure-dams infrastructure-nuclear infrastructure-water
  insurance manufacturing mining non-profit pharmaceuticals retail technology telecommunications
  telecommunications-wireless transportation utilities`);
export const INFRASTRUCTURE_TYPE_OV = w(`amplification anonymization botnet command-and-control control-system exfiltration
  firewall hosting-malware hosting-target-lists phishing reconnaissance routers-switches staging
  workstation unknown`);
export const MALWARE_RESULT_OV = w('malicious suspicious benign unknown');
export const MALWARE_CAPABILITIES_OV = w(`accesses-remote-machines anti-debugging anti-disassembly anti-emulation
  anti-memory-forensics anti-sandbox anti-vm captures-input-peripherals captures-output-peripherals
  captures-system-state-data cleans-traces-of-infection commits-fraud communicates-with-c2
  compromises-data-availability compromises-data-integrity compromises-system-availability
  controls-local-machine degrades-security-software degrades-system-updates determines-c2-server
  emails-spam-messages escalates-privileges evades-av exfiltrates-data fingerprints-host hides-artifacts
  hides-executing-code infects-files infects-remote-machines installs-other-components
  persists-after-system-reboot prevents-artifact-access prevents-artifact-deletion probes-network-environment
  self-modifies steals-authentication-credentials violates-system-operational-integrity`);
export const MALWARE_TYPE_OV = w(`adware backdoor bot bootkit ddos downloader dropper exploit-kit keylogger ransomware
  remote-access-trojan resource-exploitation rogue-security-software rootkit screen-capture spyware trojan
  unknown virus webshell wiper worm`);
export const PATTERN_TYPE_OV = w('stix pcre sigma snort suricata yara');
export const PROCESSOR_ARCHITECTURE_OV = w('alpha arm ia-64 mips powerpc sparc x86 x86-64');
export const REGION_OV = w(`africa eastern-africa middle-africa northern-africa southern-africa western-africa americas
  caribbean central-america latin-america-caribbean northern-america south-america asia central-asia
  eastern-asia southern-asia south-eastern-asia western-asia europe eastern-europe northern-europe
  southern-europe western-europe oceania antarctica australia-new-zealand melanesia micronesia polynesia`);
export const REPORT_TYPE_OV = w(`attack-pattern campaign identity indicator intrusion-set malware observed-data
  threat-actor threat-report tool vulnerability`);
export const THREAT_ACTOR_TYPE_OV = w(`activist competitor crime-syndicate criminal hacker insider-accidental
  insider-disgruntled nation-state sensationalist spy terrorist unknown`);
export const THREAT_ACTOR_ROLE_OV = w('agent director independent infrastructure-architect infrastructure-operator malware-author sponsor');
export const THREAT_ACTOR_SOPHISTICATION_OV = w('none minimal intermediate advanced expert innovator strategic');
export const TOOL_TYPE_OV = w(`denial-of-service exploitation information-gathering network-capture credential-exploitation
  remote-access vulnerability-scanning unknown`);
export const ACCOUNT_TYPE_OV = w('facebook ldap nis openid radius skype tacacs twitter unix windows-local windows-domain');

export const ENCRYPTION_ALGORITHM_ENUM = w('AES-256-GCM ChaCha20-Poly1305 mime-type-indicated');
export const OPINION_ENUM = w('strongly-disagree disagree neutral agree strongly-agree');
export const WINDOWS_REGISTRY_DATATYPE_ENUM = w(`REG_NONE REG_SZ REG_EXPAND_SZ REG_BINARY REG_DWORD REG_DWORD_BIG_ENDIAN
  REG_DWORD_LITTLE_ENDIAN REG_LINK REG_MULTI_SZ REG_RESOURCE_LIST REG_FULL_RESOURCE_DESCRIPTION
  REG_RESOURCE_REQUIREMENTS_LIST REG_QWORD REG_INVALID_TYPE`);
export const EXTENSION_TYPE_ENUM = w('new-sdo new-sco new-sro property-extension toplevel-property-extension');
export const TLP1_LEVELS = w('white green amber red');
