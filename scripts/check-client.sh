#!/usr/bin/env bash
# Why: a client generated from the committed openapi/openapi.json must compile without casts (openapi-typescript + openapi-fetch + tsc --strict).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
doc="$(realpath "${1:-$root/openapi/openapi.json}")"
[[ -f "$doc" ]] || { echo "check-client: no document at $doc" >&2; exit 2; }
command -v npm >/dev/null || { echo "check-client: npm is required" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

npm init -y >/dev/null
npm pkg set type=module
# typescript must stay on 5.x: openapi-typescript 7 needs the TS 5 compiler API (TS 7 has none).
npm install --no-audit --no-fund --loglevel=error \
  openapi-typescript@7.13.0 openapi-fetch@0.17.0 typescript@5.9.3 >/dev/null
npx --no-install openapi-typescript "$doc" -o api.d.ts

cat > client.ts <<'EOF'
// Compile-only check of a client generated from openapi/openapi.json: literal bodies,
// no `as` casts, no `any`. The @ts-expect-error lines must fail to compile.
import createClient from "openapi-fetch";
import type { components, paths } from "./api.js";

type Schemas = components["schemas"];

const client = createClient<paths>({ baseUrl: "http://localhost:8080" });
const id = "00000000-0000-0000-0000-000000000000";

export async function patches(): Promise<void> {
  // A PATCH sends only some fields; `null` clears a nullable field.
  const c1 = await client.PATCH("/api/v1/customers/{id}", {
    params: { path: { id } },
    body: { last_name: "Müller" },
  });
  if (c1.data) {
    const name: string = c1.data.last_name;
    const version: number = c1.data.version;
    void name, version;
  }
  if (c1.error) {
    const code: string = c1.error.code;
    void code;
  }
  await client.PATCH("/api/v1/customers/{id}", {
    params: { path: { id }, header: { "If-Match": '"3"' } },
    body: { district: null, postal_code: null },
  });
  await client.PATCH("/api/v1/offers/{id}", {
    params: { path: { id } },
    body: { title: "Bewerbungstraining" },
  });
  await client.PATCH("/api/v1/offers/{id}", {
    params: { path: { id } },
    body: { max_german_level: null, min_age: null, measure_approved_until: null },
  });
  await client.PATCH("/api/v1/providers/{id}", {
    params: { path: { id } },
    body: { contact_email: null },
  });
  await client.PATCH("/api/v1/households/{id}", {
    params: { path: { id } },
    body: { district: null },
  });
  await client.PATCH("/api/v1/instruments/{code}", {
    params: { path: { code: "AVGS_MAT" } },
    body: { name: "AVGS MAT", funding: "egt" },
  });
}

export async function posts(): Promise<void> {
  const a = await client.POST("/api/v1/allocations", {
    params: { header: { "Idempotency-Key": "k-1" } },
    body: { customer_id: id, offer_id: id, note: null },
  });
  if (a.data) {
    const allocationId: string = a.data.id;
    void allocationId;
  }
  await client.POST("/api/v1/customers", {
    body: {
      customer_number: "123A456789",
      first_name: "Erika",
      last_name: "Müller",
      date_of_birth: "1990-01-31",
      gender: "female",
      nationality: "DE",
      vocational_qualification: "vocational",
      german_level: "native",
      district: null,
      unemployment_spells: [{ from: "2025-01-01", to: null }],
    },
  });
  await client.POST("/api/v1/offers", {
    body: {
      instrument_code: "AVGS_MAT",
      provider_id: id,
      title: "Bewerbungstraining",
      district: "Mitte",
      starts_on: "2026-09-01",
      ends_on: "2026-12-18",
      entry: "rolling",
      planned_places: 12,
      cost_per_place_cents: 150000,
      min_german_level: "B1",
      max_age: null,
    },
  });
  await client.POST("/api/v1/providers", { body: { name: "Bildungsträger GmbH", contact_email: null } });
  await client.POST("/api/v1/instruments", {
    body: { code: "AVGS_MAT", name: "AVGS MAT", legal_basis: "§ 45 SGB III", purpose_group: "I", funding: "egt" },
  });
  await client.POST("/api/v1/households", {
    body: { household_number: "12345BG0000001", district: null, members: [{ role: "applicant", customer_id: id }] },
  });
  await client.POST("/api/v1/households/{id}/members", {
    params: { path: { id } },
    body: { role: "child", date_of_birth: "2015-05-05" },
  });
  await client.POST("/api/v1/offers/{id}/waitlist", { params: { path: { id } }, body: { customer_id: id } });
  await client.POST("/api/v1/allocations/{id}/transitions", {
    params: { path: { id } },
    body: { to: "started", on: null },
  });
  await client.POST("/api/v1/allocation-runs", { body: { customer_ids: [id], as_of: null } });
  await client.POST("/api/v1/allocation-runs/{id}/proposals/{proposal_id}/decision", {
    params: { path: { id, proposal_id: id } },
    body: { accept: false, reason: "Termin passt nicht" },
  });
  await client.POST("/api/v1/auth/login", { body: { username: "admin", password: "secret" } });
  await client.POST("/api/v1/users", { body: { username: "sb1", password: "secret", role: "specialist" } });
  await client.PUT("/api/v1/plans/{year}", {
    params: { path: { year: 2026 } },
    body: { instruments: [], budget_cents: null },
  });
}

export async function queries(): Promise<void> {
  const list = await client.GET("/api/v1/customers", {
    params: { query: { last_name: "Müller", limit: 10 } },
  });
  if (list.data) {
    const first: string | undefined = list.data.items[0]?.last_name;
    const cursor: string | null | undefined = list.data.next_cursor;
    void first, cursor;
  }
}

// Must NOT compile: proves the body types are neither `any` nor `Record<string, never>`.
export async function mustFail(): Promise<void> {
  await client.PATCH("/api/v1/customers/{id}", {
    params: { path: { id } },
    // @ts-expect-error last_name is not nullable in CustomerPatch
    body: { last_name: null },
  });
  // @ts-expect-error offer_id is required in NewAllocation
  await client.POST("/api/v1/allocations", { body: { customer_id: id } });
  await client.PATCH("/api/v1/offers/{id}", {
    params: { path: { id } },
    // @ts-expect-error status is an enum (open | closed)
    body: { status: "archived" },
  });
  // openapi-fetch infers the init object generically, so TypeScript does not flag unknown
  // fields in an inline body (openapi-ts/openapi-typescript#1769, #2329); type the body to get
  // the excess-property check.
  // @ts-expect-error unknown field in a PATCH body
  const patch: Schemas["CustomerPatch"] = { no_such_field: 1 };
  await client.PATCH("/api/v1/customers/{id}", { params: { path: { id } }, body: patch });
}
EOF

if npx --no-install tsc --noEmit --strict --target es2022 --module nodenext --moduleResolution nodenext client.ts; then
  echo "check-client: OK (client generated from $doc compiles)"
else
  echo "check-client: FAILED: the generated client does not compile against $doc" >&2
  exit 1
fi
