import { registry } from "@web/core/registry";

// A packer opens a delivery to pack, weighs the parcel, enters its tracking number and packs it.
registry.category("web_tour.tours").add("oms_pack_tour", {
    url: "/odoo/action-oms_ecommerce.oms_delivery_action",
    steps: () => [
        {
            content: "Open the delivery of the channel order",
            trigger: ".o_list_view .o_data_row:contains('TOUR-PACK') td.o_data_cell",
            run: "click",
        },
        {
            content: "Pack it",
            trigger: ".o_form_view .o_form_statusbar button[name=action_oms_pack]",
            run: "click",
        },
        {
            content: "The packing screen shows the expected weight of parcel 1",
            trigger: ".modal .o_field_one2many[name=parcel_ids] .o_data_row:contains('1.00')",
        },
        {
            content: "Weigh the parcel",
            trigger: ".modal .o_field_one2many[name=parcel_ids] .o_data_row td[name=weight]",
            run: "click",
        },
        {
            trigger: ".modal .o_field_one2many[name=parcel_ids] .o_data_row [name=weight] input",
            run: "edit 1.30",
        },
        {
            content: "Enter the tracking number",
            trigger: ".modal .o_field_one2many[name=parcel_ids] .o_data_row [name=tracking_ref] input",
            run: "edit TOURTRACK1",
        },
        {
            content: "The weight is outside the tolerance: the screen says so",
            trigger: ".modal .alert-warning:contains('+30%')",
        },
        {
            content: "Weigh again",
            trigger: ".modal .o_field_one2many[name=parcel_ids] .o_data_row [name=weight] input",
            run: "edit 1.02",
        },
        {
            trigger: ".modal .o_field_one2many[name=parcel_ids] .o_data_row [name=tracking_ref] input",
            run: "click",
        },
        {
            content: "Within the tolerance now",
            trigger: ".modal:not(:has(.alert-warning:visible)) .o_field_one2many[name=parcel_ids] .o_data_row:contains('Within tolerance')",
        },
        {
            content: "No label printing in this test",
            trigger: ".modal .o_field_widget[name=print_label] input",
            run: "click",
        },
        {
            content: "Pack",
            trigger: ".modal footer button[name=action_confirm]",
            run: "click",
        },
        {
            content: "The delivery lists its parcel with the tracking number",
            trigger: ".o_form_view .o_notebook .nav-link:contains('Parcels')",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_one2many[name=oms_package_ids] .o_data_row:contains('TOURTRACK1'):contains('1.02')",
        },
    ],
});
