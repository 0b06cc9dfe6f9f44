//! The access export (Art. 15 DSGVO, § 83 SGB X): everything stored about one person —
//! the record with its contact data, spells and imported participations, the household,
//! placements with their verdicts and every state change, waiting-list entries, cohort
//! proposals, the recipients (the providers whose offers hold the person's placements,
//! § 69 Abs. 1 Nr. 1 SGB X) and who accessed the record, when and through which route.
//!
//! The export is audited as a read of the person (and of the household's members whose
//! entries it shows), one entry each: the placements, entries and proposals it lists are
//! the person's own and are covered by that entry.

use std::collections::BTreeMap;

use passgenau_domain::household::HouseholdMember;
use passgenau_domain::ids::{CustomerId, OfferId, ProviderId};
use passgenau_store::allocations::{self, AllocationEvent, AllocationFilter, AllocationRecord};
use passgenau_store::audit::{self, Action, AuditEntry, AuditFilter};
use passgenau_store::customers::{self as repo, CustomerRecord};
use passgenau_store::households::{self, HouseholdRecord};
use passgenau_store::runs::{self, ProposalRecord};
use passgenau_store::waitlist::{self, WaitlistEntry};
use passgenau_store::{offers, Page, Store};

use crate::app::audit::{access, Audited};
use crate::app::error::{missing, AppResult};
use crate::identity::Caller;

/// A provider that received the person's data through a placement in one of its offers.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub provider_id: ProviderId,
    pub name: String,
    /// The offers whose placements it saw.
    pub offers: Vec<(OfferId, String)>,
}

/// What the export holds, as records; the route renders it.
#[derive(Debug, Clone)]
pub struct PersonExport {
    pub customer: CustomerRecord,
    pub members: Vec<HouseholdMember>,
    pub household: Option<HouseholdRecord>,
    pub placements: Vec<AllocationRecord>,
    pub events: Vec<AllocationEvent>,
    pub waiting: Vec<WaitlistEntry>,
    pub proposals: Vec<ProposalRecord>,
    pub recipients: Vec<Recipient>,
    /// The placements' and proposals' offers in short.
    pub offers: std::collections::HashMap<OfferId, offers::OfferBrief>,
    /// Every audit entry that names the person, oldest first (this export's own entry is
    /// written as the answer leaves).
    pub accesses: Vec<AuditEntry>,
}

/// Audit entries (or placements) read per page while collecting the export.
const PAGE: i64 = 1_000;

/// Everything stored about the customer.
pub fn export(
    store: &Store,
    audit: &mut Audited,
    caller: &Caller,
    route: &str,
    id: CustomerId,
) -> AppResult<PersonExport> {
    let read = access(caller, Action::Read, route);
    store.read(|conn| {
        let customer = audit.open(store, &read, repo::get(conn, id).map_err(missing("customer"))?);
        let household = match customer.household_id {
            Some(h) => Some(audit.open(store, &read, households::get(conn, h)?)),
            None => None,
        };
        let members = household.as_ref().map(|h| h.members.clone()).unwrap_or_default();
        // the person's own records, covered by the entry of the customer's read
        let mut placements = Vec::new();
        let mut page = Page {
            after: None,
            limit: PAGE,
        };
        loop {
            let filter = AllocationFilter {
                customer_id: Some(id),
                ..Default::default()
            };
            let (got, _own) = allocations::list(conn, &filter, &page)?.open_pending(&read);
            placements.extend(got.items);
            match got.next {
                Some(next) => page.after = Some(next),
                None => break,
            }
        }
        let (events, _own) = allocations::events_of(conn, id)?.open_pending(&read);
        let (waiting, _own) = waitlist::of_customer(conn, id)?.open_pending(&read);
        let (proposals, _own) = runs::proposals_of(conn, id)?.open_pending(&read);
        // the offers of the placements and proposals, with their providers, in one query
        let ids: Vec<OfferId> = placements
            .iter()
            .map(|p| p.offer_id)
            .chain(proposals.iter().map(|p| p.offer_id))
            .collect();
        let offers = offers::briefs(conn, &ids)?;
        let mut by_provider: BTreeMap<ProviderId, Recipient> = BTreeMap::new();
        let mut placed: Vec<OfferId> = placements.iter().map(|p| p.offer_id).collect();
        placed.sort_unstable();
        placed.dedup();
        for b in placed.iter().filter_map(|id| offers.get(id)) {
            by_provider
                .entry(b.provider_id)
                .or_insert_with(|| Recipient {
                    provider_id: b.provider_id,
                    name: b.provider_name.clone(),
                    offers: Vec::new(),
                })
                .offers
                .push((b.id, b.title.clone()));
        }
        let mut accesses = Vec::new();
        let mut page = Page {
            after: None,
            limit: PAGE,
        };
        loop {
            let filter = AuditFilter {
                customer_id: Some(id),
                ..Default::default()
            };
            let got = audit::list(conn, &filter, &page)?;
            accesses.extend(got.items);
            match got.next {
                Some(next) => page.after = Some(next),
                None => break,
            }
        }
        accesses.sort_by_key(|e| (e.at, e.id));
        Ok(PersonExport {
            customer,
            members,
            household,
            placements,
            events,
            waiting,
            proposals,
            recipients: by_provider.into_values().collect(),
            offers,
            accesses,
        })
    })
}
