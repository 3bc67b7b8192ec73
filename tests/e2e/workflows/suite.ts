import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { SERVICES, type ServiceName } from '@roster/contracts';
import { ChildService } from '../faults-support.js';
import { startSystem, type System, type SystemOptions } from '../support/system.js';
import { Roster } from './client.js';
import { startMailbox, type Mailbox } from './mailbox.js';
import { agencyWorkflow, cleaningCompanyWorkflow, dryRunWorkflow, salonChainWorkflow } from './access-workflows.js';
import { clientDeactivatedWorkflow, managerDeactivatedWorkflow, salesTeamWorkflow } from './people-workflows.js';
import { applicationSignInWorkflow } from './applications.js';
import { clientRequestWorkflow } from './client-requests.js';
import { loginTruthWorkflow } from './one-truth.js';
import { petSittingWorkflow } from './pet-sitting.js';
import { startSmsProvider, type Phones } from './phone.js';

/**
 * The seeds' workflows (issue 7), driven only through the public HTTP APIs and the SMTP server,
 * the same on every transport. One system, one tenant per workflow.
 */
export function workflowSuite(name: string, options: () => Promise<SystemOptions>, footprint: 'one process' | 'a process per service' = 'one process'): void {
  describe(`the seeds' workflows on ${name} (${footprint})`, () => {
    let system: System;
    const children: ChildService[] = [];
    let mailbox: Mailbox;
    let phones: Phones;
    let roster: Roster;

    beforeAll(async () => {
      mailbox = await startMailbox();
      phones = await startSmsProvider();
      const o = await options();
      const external = footprint === 'a process per service' ? [...SERVICES] : [];
      system = await startSystem({ ...o, external, env: { ...o.env, SMTP_URL: mailbox.url, SMS_PROVIDER_URL: phones.url } });
      if (external.length > 0) {
        // Production's footprint: each service its own Node process on its own database.
        const started = await Promise.all(external.map(async (service) => {
          const child = new ChildService(service, system.envOf(service));
          children.push(child);
          await child.start();
          return [service, child.url] as const;
        }));
        const urls = Object.fromEntries(started) as Record<ServiceName, string>;
        system = { ...system, url: (service) => urls[service] };
      }
      roster = new Roster(system, mailbox);
    });
    afterAll(async () => {
      await Promise.allSettled(children.map((c) => c.stop()));
      await system?.stop();
      await mailbox?.close();
      await phones?.close();
    });

    it('pet sitting: a sitter gets a login, has visits, leaves; everything follows', () => petSittingWorkflow(roster));
    it('a client leaves: future visits, surcharges and schedules go, history stays', () => clientDeactivatedWorkflow(roster));
    it('a manager leaves: login refused, monitors flagged, owners told', () => managerDeactivatedWorkflow(roster));
    it('a sales team: four user types, assigned clients, log in as, archive and restore', () => salesTeamWorkflow(roster));
    it('a cleaning company: a supervisor grants logins in their area only; access revoked', () => cleaningCompanyWorkflow(roster));
    it('an agency: bulk access both ways, removals, audit shows system effects', () => agencyWorkflow(roster));
    it('a salon chain: invitations by SMS and e-mail, resend, withdraw, edit, register, join', () => salonChainWorkflow(roster, phones));
    it("one truth (issue 16): an invitee's login and its switches reach the directory; e-mails name the username; phones checked at entry", () => loginTruthWorkflow(roster));
    it('LeashTime (issue 18, S3): a client asks for visits, the monitor tells the manager once, approval books them with the default sitter; a departed manager\'s monitor stays silent', () => clientRequestWorkflow(roster));
    it('an application signs in with Roster (issue 17): code + PKCE through the hosted form; deactivation sends it a back-channel logout within a second', () => applicationSignInWorkflow(roster));
    it('a dry run of a deactivation reports what the real run does and changes nothing', () => dryRunWorkflow(roster));
  });
}
