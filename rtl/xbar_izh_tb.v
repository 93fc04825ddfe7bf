// NeuroXbar: self-checking testbench of rtl/xbar_izh_unit.v (docs/rtl-izhikevich.md).
// Reads a vector file (decimal, whitespace separated; +vectors=FILE, default izh_vectors.txt):
//   N T H F G Q S PK RND VB UB CB                  configuration (RND: 0 floor, 1 trunc, 2 half_up, 3 half_even)
//   a b c d bias v0 u0                             N lines: neuron i's parameters and initial state
//   I vtrace v u spike count                       T*N lines, step-major then neuron: the input of neuron i at
//                                                  step t and the expected pre-reset vv, v, u, spike, count after it
// and drives the unit neuron by neuron, step by step, feeding back the unit's own state (closed loop; +resync
// feeds the expected state instead, so each update is checked on its own). The saturation widths VB, UB, CB
// are taken from the file at run time (they must not exceed the compiled widths VBMAX, UBMAX, CBMAX), so one
// build checks every file. Prints the first MAXPRINT mismatches as
//   MISMATCH t=<t> n=<n> field=<vtrace|v|u|spike|count> got=<g> want=<w>
// then exactly `PASS <N> neurons <T> steps` or `FAIL <k> mismatches`, and calls $finish.
//   iverilog -g2012 -o tb rtl/xbar_izh_unit.v rtl/xbar_izh_tb.v && vvp tb +vectors=FILE [+resync] [+maxprint=M]
`timescale 1ns/1ps

module xbar_izh_tb;
    parameter integer VBMAX = 32;      // compiled widths (iverilog -P xbar_izh_tb.VBMAX=...)
    parameter integer UBMAX = 32;
    parameter integer CBMAX = 64;
    parameter integer NMAX  = 65536;   // largest N in a file
    localparam integer IB = 64;        // input current width

    reg clk = 1'b0;
    always #1 clk = ~clk;
    integer cycles = 0;   // clock edges since the reset was released
    always @(posedge clk) if (!rst) cycles = cycles + 1;

    // Configuration.
    reg rst = 1'b1;
    reg [4:0] cfg_f = 0, cfg_g = 0, cfg_s = 0;
    reg [2:0] cfg_h = 0;
    reg signed [31:0] cfg_q = 0, cfg_pk = 0;
    reg [1:0] cfg_rnd = 0;
    reg [5:0] cfg_vbits = 0, cfg_ubits = 0;
    reg [6:0] cfg_cbits = 0;
    // Neuron inputs.
    reg start = 1'b0;
    reg signed [31:0] a = 0, b = 0, c = 0, d = 0, bias = 0;
    reg signed [IB-1:0] i_in = 0;
    reg signed [VBMAX-1:0] v_in = 0;
    reg signed [UBMAX-1:0] u_in = 0;
    reg [CBMAX-1:0] count_in = 0;
    wire busy, done, spike;
    wire signed [VBMAX-1:0] v_out, vtrace;
    wire signed [UBMAX-1:0] u_out;
    wire [CBMAX-1:0] count_out;

    xbar_izh_unit #(.VB(VBMAX), .UB(UBMAX), .CB(CBMAX), .IB(IB)) dut (
        .clk(clk), .rst(rst),
        .cfg_f(cfg_f), .cfg_g(cfg_g), .cfg_h(cfg_h), .cfg_q(cfg_q), .cfg_s(cfg_s), .cfg_pk(cfg_pk),
        .cfg_rnd(cfg_rnd), .cfg_vbits(cfg_vbits), .cfg_ubits(cfg_ubits), .cfg_cbits(cfg_cbits),
        .start(start), .a(a), .b(b), .c(c), .d(d), .bias(bias), .i_in(i_in), .v_in(v_in), .u_in(u_in),
        .count_in(count_in),
        .busy(busy), .done(done), .v_out(v_out), .u_out(u_out), .vtrace(vtrace), .spike(spike),
        .count_out(count_out)
    );

    // Per-neuron parameters and state.
    reg signed [31:0] pa [0:NMAX-1];
    reg signed [31:0] pb [0:NMAX-1];
    reg signed [31:0] pc [0:NMAX-1];
    reg signed [31:0] pd [0:NMAX-1];
    reg signed [31:0] pbias [0:NMAX-1];
    reg signed [63:0] sv [0:NMAX-1];
    reg signed [63:0] su [0:NMAX-1];
    reg [63:0] scount [0:NMAX-1];

    reg [8*1024-1:0] path;
    integer fd, rc, n_neur, n_steps, maxprint, resync, mismatches, t, n, lat, lat_expected;
    reg signed [63:0] f_n, f_t, f_h, f_f, f_g, f_q, f_s, f_pk, f_rnd, f_vb, f_ub, f_cb;
    reg signed [63:0] r_a, r_b, r_c, r_d, r_bias, r_v0, r_u0;
    reg signed [63:0] e_i, e_vtrace, e_v, e_u, e_spike, e_count;
    reg signed [63:0] g_vtrace, g_v, g_u, g_spike, g_count;

    // Read one decimal integer; a missing one is fatal.
    task read_int;
        output signed [63:0] x;
        input [8*16-1:0] what;
        begin
            rc = $fscanf(fd, "%d", x);
            if (rc != 1) begin
                $display("ERROR: %0s: cannot read %0s (t=%0d n=%0d)", path, what, t, n);
                $display("FAIL 1 mismatches");
                $finish;
            end
        end
    endtask

    task check;
        input [8*8-1:0] field;
        input signed [63:0] got;
        input signed [63:0] want;
        begin
            if (got !== want) begin
                mismatches = mismatches + 1;
                if (mismatches <= maxprint)
                    $display("MISMATCH t=%0d n=%0d field=%0s got=%0d want=%0d", t, n, field, got, want);
            end
        end
    endtask

    initial begin
        if (!$value$plusargs("vectors=%s", path)) path = "izh_vectors.txt";
        if (!$value$plusargs("maxprint=%d", maxprint)) maxprint = 10;
        resync = $test$plusargs("resync") ? 1 : 0;
        mismatches = 0;
        t = -1;
        n = -1;
        fd = $fopen(path, "r");
        if (fd == 0) begin
            $display("ERROR: cannot open %0s", path);
            $display("FAIL 1 mismatches");
            $finish;
        end
        read_int(f_n, "N");   read_int(f_t, "T");   read_int(f_h, "H");  read_int(f_f, "F");
        read_int(f_g, "G");   read_int(f_q, "Q");   read_int(f_s, "S");  read_int(f_pk, "PK");
        read_int(f_rnd, "RND"); read_int(f_vb, "VB"); read_int(f_ub, "UB"); read_int(f_cb, "CB");
        n_neur = f_n;
        n_steps = f_t;
        if (f_n < 0 || f_n > NMAX || f_t < 0 || f_h < 0 || f_h > 7 || f_f < 0 || f_f > 31 || f_g < 0 || f_g > 31
            || f_s < 0 || f_s > 31 || f_rnd < 0 || f_rnd > 3 || f_vb < 1 || f_vb > VBMAX || f_ub < 1 || f_ub > UBMAX
            || f_cb < 1 || f_cb > CBMAX) begin
            $display("ERROR: %0s: configuration outside this build (N <= %0d, H <= 7, F, G, S <= 31, RND 0..3, VB <= %0d, UB <= %0d, CB <= %0d)",
                     path, NMAX, VBMAX, UBMAX, CBMAX);
            $display("FAIL 1 mismatches");
            $finish;
        end
        cfg_h = f_h; cfg_f = f_f; cfg_g = f_g; cfg_q = f_q; cfg_s = f_s; cfg_pk = f_pk; cfg_rnd = f_rnd;
        cfg_vbits = f_vb; cfg_ubits = f_ub; cfg_cbits = f_cb;
        lat_expected = (1 << f_h) + 1;
        for (n = 0; n < n_neur; n = n + 1) begin
            read_int(r_a, "a"); read_int(r_b, "b"); read_int(r_c, "c"); read_int(r_d, "d");
            read_int(r_bias, "bias"); read_int(r_v0, "v0"); read_int(r_u0, "u0");
            pa[n] = r_a; pb[n] = r_b; pc[n] = r_c; pd[n] = r_d; pbias[n] = r_bias;
            sv[n] = r_v0; su[n] = r_u0; scount[n] = 0;
        end
        // (No string-valued ?: argument: Verilator 5.006 prints the other arguments wrongly beside one.)
        $display("INFO %0s: N=%0d T=%0d K=%0d F=%0d G=%0d Q=%0d S=%0d PK=%0d RND=%0d VB=%0d UB=%0d CB=%0d",
                 path, f_n, f_t, 1 << f_h, f_f, f_g, f_q, f_s, f_pk, f_rnd, f_vb, f_ub, f_cb);
        if (resync) $display("INFO resync: after a mismatch the unit continues from the expected state");
        // Reset.
        @(negedge clk); @(negedge clk);
        rst = 1'b0;
        for (t = 0; t < n_steps; t = t + 1) begin
            for (n = 0; n < n_neur; n = n + 1) begin
                read_int(e_i, "I"); read_int(e_vtrace, "vtrace"); read_int(e_v, "v"); read_int(e_u, "u");
                read_int(e_spike, "spike"); read_int(e_count, "count");
                // Drive one neuron update (inputs change at the falling edge).
                a = pa[n]; b = pb[n]; c = pc[n]; d = pd[n]; bias = pbias[n]; i_in = e_i;
                v_in = sv[n]; u_in = su[n]; count_in = scount[n];
                start = 1'b1;
                @(posedge clk); #0.1;
                start = 1'b0;
                lat = 1;
                while (!done) begin
                    @(posedge clk); #0.1;
                    lat = lat + 1;
                end
                if (lat != lat_expected) begin
                    mismatches = mismatches + 1;
                    if (mismatches <= maxprint)
                        $display("MISMATCH t=%0d n=%0d field=latency got=%0d want=%0d", t, n, lat, lat_expected);
                end
                g_vtrace = vtrace; g_v = v_out; g_u = u_out; g_spike = spike; g_count = count_out;
                check("vtrace", g_vtrace, e_vtrace);
                check("v", g_v, e_v);
                check("u", g_u, e_u);
                check("spike", g_spike, e_spike);
                check("count", g_count, e_count);
                if (resync) begin
                    sv[n] = e_v; su[n] = e_u; scount[n] = e_count;
                end else begin
                    sv[n] = g_v; su[n] = g_u; scount[n] = g_count;
                end
                @(negedge clk);
            end
        end
        // Trailing garbage means the file and N, T disagree.
        rc = $fscanf(fd, "%d", e_i);
        if (rc == 1) begin
            $display("ERROR: %0s has more records than N x T", path);
            mismatches = mismatches + 1;
        end
        $fclose(fd);
        if (n_neur > 0 && n_steps > 0)
            $display("INFO %0d neuron updates in %0d cycles (K + 1 = %0d per update)", n_neur * n_steps,
                     cycles, lat_expected);
        if (mismatches == 0) $display("PASS %0d neurons %0d steps", n_neur, n_steps);
        else $display("FAIL %0d mismatches", mismatches);
        $finish;
    end
endmodule
