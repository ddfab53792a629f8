// The built-in demo orders the server seeds (seed 42), regenerated with the
// same binary so tests know each order's number and email. The indices
// follow SCENARIOS in src/ingest/demo.rs; each test checks the headline it
// expects, so a change there fails here loudly instead of silently.
import { execFileSync } from "node:child_process";
import * as path from "node:path";

const root = path.resolve(__dirname, "../..");
const bin = path.resolve(root, process.env.ORDER_STATUS_BIN ?? "target/debug/order-status");

export type DemoOrder = {
  name: string;
  number: string;
  email: string;
  city: string;
  countryCode: string;
};

let cache: DemoOrder[] | undefined;

export function demoOrders(): DemoOrder[] {
  if (!cache) {
    const out = execFileSync(bin, ["demo-data", "--orders", "40", "--seed", "42"], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, RUST_LOG: "error" },
    });
    cache = out
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line))
      .map((o) => ({
        name: o.name,
        number: String(o.order_number),
        email: o.email,
        city: o.shipping_address?.city ?? "",
        countryCode: o.shipping_address?.country_code ?? "",
      }));
  }
  return cache;
}

export const SCENARIO = {
  inTransit: 0,
  splitShipment: 1,
  delivered: 2,
  preparing: 3,
  customStage: 4,
  onHold: 5,
  scheduled: 8,
  outForDelivery: 9,
  partlyShipped: 10,
  deliveryFailure: 11,
  cancelledByCustomer: 17,
  returnRequested: 23,
  returnInProgress: 24,
  returned: 25,
  partiallyRefunded: 28,
  refunded: 29,
} as const;

export function demo(kind: keyof typeof SCENARIO): DemoOrder {
  return demoOrders()[SCENARIO[kind]];
}
