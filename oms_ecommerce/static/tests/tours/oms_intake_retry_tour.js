import { registry } from "@web/core/registry";

// The order desk finds an order stuck in intake, reads what to fix, and retries it once fixed.
registry.category("web_tour.tours").add("oms_intake_retry_tour", {
    url: "/odoo/action-oms_ecommerce.oms_intake_action",
    steps: () => [
        {
            content: "The intake list opens on the errors, with the stuck order",
            trigger: ".o_list_view .o_data_row:contains('TOUR-1001'):contains('Unknown SKU')",
        },
        {
            content: "Open it",
            trigger: ".o_data_row td.o_data_cell:contains('TOUR-1001')",
            run: "click",
        },
        {
            content: "The form says what is wrong and how to fix it",
            trigger: ".o_form_view .alert-danger:contains('TOUR-SKU')",
        },
        {
            content: "The product was created meanwhile: retry",
            trigger: ".o_form_view .o_form_statusbar button[name=action_retry]",
            run: "click",
        },
        {
            content: "The intake is done",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains('Done')",
        },
        {
            content: "and links the order it created",
            trigger: ".o_form_view button[name=action_open_order]",
            run: "click",
        },
        {
            content: "The sales order opens, with its Channel tab (shown for channel orders only)",
            trigger: ".o_form_view .o_notebook .nav-link:contains('Channel')",
        },
    ],
});

// The order desk confirms a received order; the customer's email shows in the chatter.
registry.category("web_tour.tours").add("oms_confirm_order_tour", {
    url: "/odoo/action-oms_ecommerce.sale_order_action_oms",
    steps: () => [
        {
            content: "Open the received channel order",
            trigger: ".o_data_row:contains('TOUR-2001'):contains('Received') td.o_data_cell",
            run: "click",
        },
        {
            content: "Confirm it",
            trigger: ".o_form_view .o_form_statusbar button[name=action_confirm]",
            run: "click",
        },
        {
            // The customer's email follows right after, from the step-email scheduled action.
            content: "The order is confirmed",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains('Sales Order')",
        },
    ],
});
