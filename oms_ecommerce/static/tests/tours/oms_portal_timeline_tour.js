import { registry } from "@web/core/registry";

// A customer follows their channel order on the portal.
registry.category("web_tour.tours").add("oms_portal_timeline_tour", {
    url: "/my/orders",
    steps: () => [
        {
            content: "The order list shows each order's step",
            trigger: "tr:contains('Confirmed') a:contains('S')",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The order page shows the timeline of the steps",
            trigger: "#oms_timeline .o_oms_timeline_step:contains('Received')",
        },
        {
            content: "with the current step and the ship-by promise",
            trigger: "#oms_timeline:contains('ships by') .o_oms_current_step:contains('Confirmed')",
        },
    ],
});
