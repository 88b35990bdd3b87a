import { registry } from "@web/core/registry";

/**
 * The overview has rendered what this team sees: the order desk its channels' cards, the warehouse and customer
 * service their own team card only (issue 17's roles), with neither the channels' nor another team's card.
 */
const overviewRendered = (team) => ({
    content: `The overview opens with the cards of the ${team}`,
    trigger: {
        desk: ".o_oms_overview[data-render-ms] .o_oms_overview_channels .o_kanban_record",
        warehouse:
            ".o_oms_overview[data-render-ms]:not(:has(.o_oms_overview_channels)) .o_oms_overview_queues:has(a[data-oms-figure=to_pack]):not(:has(a[data-oms-figure=open_tickets]))",
        service:
            ".o_oms_overview[data-render-ms]:not(:has(.o_oms_overview_channels)) .o_oms_overview_queues:has(a[data-oms-figure=open_tickets]):not(:has(a[data-oms-figure=to_pack]))",
    }[team],
    run() {
        // Reported in the test log (the README quotes it); not asserted: a timing is not a test.
        const el = document.querySelector(".o_oms_overview");
        console.log(
            `oms overview rendered in ${el.dataset.renderMs} ms after the action started, ` +
                `${el.dataset.sinceNavigationMs} ms after the page was opened`
        );
    },
});

// The order desk opens the overview, clicks Late on its channel's card and lands on the late orders.
registry.category("web_tour.tours").add("oms_overview_late_tour", {
    url: "/odoo/action-oms_ecommerce.oms_overview_action",
    steps: () => [
        overviewRendered("desk"),
        {
            content: "The Test Shop card counts one late order: click it",
            trigger:
                ".o_oms_overview_channels .o_kanban_record:contains('Test Shop') a[data-oms-figure=late]:contains('1')",
            run: "click",
        },
        {
            content: "The late orders of the channel open",
            trigger: ".o_breadcrumb:contains('Test Shop: Late')",
        },
        {
            content: "with the late order",
            trigger: ".o_list_view .o_data_row:contains('TOUR-LATE')",
        },
        {
            content: "and only it",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('TOUR-ON-TIME')))",
        },
    ],
});

// The warehouse clicks Waves to print, prints the wave: it is built in the background.
registry.category("web_tour.tours").add("oms_overview_wave_tour", {
    url: "/odoo/action-oms_ecommerce.oms_overview_action",
    steps: () => [
        overviewRendered("warehouse"),
        {
            content: "Click Waves to print on the warehouse card",
            trigger: ".o_oms_overview_queues a[data-oms-figure=waves_to_print]",
            run: "click",
        },
        {
            content: "Open the wave to print",
            trigger: ".o_breadcrumb:contains('Waves to Print')",
        },
        {
            content: "Open the wave to print",
            trigger: ".o_list_view .o_data_row:contains('TOUR-WAVE') td.o_data_cell",
            run: "click",
        },
        {
            content: "Print it",
            trigger: ".o_form_view button[name=action_oms_print_wave]",
            run: "click",
        },
        {
            content: "Print everything (pick list, slips, labels)",
            trigger: ".modal button[name=action_print]",
            run: "click",
        },
        {
            content: "The document is built in the background; the packer is told",
            trigger: ".o_notification:contains('is being built')",
        },
    ],
});

// Once built, the wave's print job shows done, with its document to download.
registry.category("web_tour.tours").add("oms_overview_wave_done_tour", {
    url: "/odoo/action-oms_ecommerce.oms_overview_action",
    steps: () => [
        overviewRendered("warehouse"),
        {
            content: "Nothing is being printed any more",
            trigger: ".o_oms_overview_queues a[data-oms-figure=printing]:contains('0')",
        },
        {
            content: "The wave is no longer to print: open the waves",
            trigger: ".o_oms_overview_queues a[data-oms-figure=waves_to_print]",
            run: "click",
        },
        {
            content: "The printed wave is not in the list",
            trigger: ".o_breadcrumb:contains('Waves to Print')",
        },
        {
            content: "The printed wave is not in the list",
            trigger: ".o_action:not(:has(.o_data_row:contains('TOUR-WAVE')))",
        },
    ],
});

// The agent clicks At risk, opens the ticket and answers it with the canned reply.
registry.category("web_tour.tours").add("oms_overview_ticket_tour", {
    url: "/odoo/action-oms_ecommerce.oms_overview_action",
    steps: () => [
        overviewRendered("service"),
        {
            content: "Click At risk on the customer service card",
            trigger: ".o_oms_overview_queues a[data-oms-figure=at_risk_tickets]",
            run: "click",
        },
        {
            content: "The ticket at risk is listed: open it",
            trigger: ".o_data_row:contains('Where is my tea?') td.o_data_cell",
            run: "click",
        },
        {
            content: "Answer with the canned reply",
            trigger: ".o_form_view button[name=action_canned_reply]",
            run: "click",
        },
        {
            content: "The reply is filled in from the live order",
            trigger: ".modal .o_field_html:contains('TOUR-TICKET')",
        },
        {
            content: "Send it",
            trigger: ".modal button[name=action_send_mail]:not([disabled])",
            run: "click",
        },
        {
            // The composer is closed once the answer is posted; the ticket's acknowledgement (which names the
            // order too) is not the answer: wait for the canned reply's own words.
            content: "The answer is in the ticket's chatter",
            trigger: "body:not(:has(.modal)) .o-mail-Message:contains('Every step of your order')",
        },
        {
            content: "Open the ticket's order",
            trigger: ".o_form_view button[name=action_open_order]",
            run: "click",
        },
        {
            // Customer service reads orders without sales or stock rights: the order's form opens, read-only.
            content: "The order opens from the ticket, read-only, with its channel's reference",
            trigger: ".o_form_readonly .o_field_widget[name=oms_external_id]:contains('TOUR-TICKET')",
        },
        {
            content: "Look at its deliveries and tracking",
            trigger: ".o_notebook_headers a[name=tracking]",
            run: "click",
        },
        {
            content: "Its deliveries are listed",
            trigger: ".o_field_widget[name=picking_ids] .o_list_renderer",
        },
        {
            content: "and no error was shown",
            trigger: "body:not(:has(.o_error_dialog))",
        },
    ],
});
