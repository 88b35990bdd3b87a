import { Component, onMounted, onWillStart, useRef } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { user } from "@web/core/user";
import { View } from "@web/views/view";

/**
 * The Order Desk overview: the team queue cards (warehouse, customer service, accounting) above the
 * sales channel cards. Both are ordinary kanban views (oms.overview.queue and oms.channel) an
 * administrator can change; each figure on a card opens its filtered list.
 */
export class OmsOverview extends Component {
    static template = "oms_ecommerce.Overview";
    static components = { View };
    static props = ["*"];

    setup() {
        this.root = useRef("root");
        const started = performance.now();
        const kanban = (resModel, viewRef) => ({
            resModel,
            type: "kanban",
            context: { kanban_view_ref: viewRef },
            display: { controlPanel: false, searchPanel: false },
            noBreadcrumbs: true,
        });
        this.queueProps = kanban("oms.overview.queue", "oms_ecommerce.oms_overview_queue_view_kanban");
        this.channelProps = kanban("oms.channel", "oms_ecommerce.oms_channel_view_kanban_overview");
        // Each team sees its own card (record rules on oms.overview.queue); the channels' cards, with their
        // orders to confirm and intake errors, are the order desk's.
        this.show = { teams: true, channels: true };
        onWillStart(async () => {
            const [desk, warehouse, service, billing] = await Promise.all(
                [
                    "oms_ecommerce.group_oms_user",
                    "stock.group_stock_user",
                    "oms_ecommerce.group_oms_service",
                    "account.group_account_invoice",
                ].map((group) => user.hasGroup(group))
            );
            this.show = { teams: warehouse || service || billing, channels: desk };
        });
        onMounted(() => {
            // Both kanbans have loaded their figures and rendered (a parent mounts after its children):
            // the time it took, for the tour to report.
            this.root.el.dataset.renderMs = Math.round(performance.now() - started);
            this.root.el.dataset.sinceNavigationMs = Math.round(performance.now());
        });
    }
}

registry.category("actions").add("oms_ecommerce.overview", OmsOverview);
