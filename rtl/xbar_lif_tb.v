// NeuroXbar: self-checking testbench template of the LIF neuron unit (docs/vectors.md, "RTL cross-check").
// `xbar vectors` writes tb/tb_lif.<pop>.v = the `define block of one population's parameters + this file.
// It replays response/lif.<pop>.vec: for every group of neurons that leaves the pipeline at cycle c of a
// sample, it drives the recorded input currents into xbar_lif_unit during cycle c and, after the clock edge,
// compares mem, spike, refr and count (and syn, for a population with a synapse) of every neuron with the recorded
// values. Before the first sample it writes the per-neuron bias memories from program/neuron.<pop>.bias.hex and
// .synapse_bias.hex when the population has them. The first difference is printed
//   MISMATCH cycle <c> sample <s> step <t> signal <mem|spike|refr|count|syn>.<pop>[<neuron>] expected <v> got <v>
// and the simulation stops with exit status 1 (`XBAR_FAIL); otherwise it prints "PASS <n> neuron updates" and
// finishes with status 0. Run from the vector directory:
//   iverilog -g2005 -o tb.vvp tb/tb_lif.<pop>.v tb/xbar_lif_unit.v && vvp -n tb.vvp [+vec=<file>]
`timescale 1ns/1ps

// How a failing run ends: exit status 1 under Icarus Verilog (define XBAR_FAIL as $finish for a simulator
// without $fatal in Verilog-2005 mode).
`ifndef XBAR_FAIL
`define XBAR_FAIL $fatal(1, "xbar_lif_tb: first mismatch reported above")
`endif

// Defaults (a 1-neuron population with no records) so the template compiles on its own.
`ifndef XBAR_POP
`define XBAR_POP "pop"
`define XBAR_N 1
`define XBAR_LANES 1
`define XBAR_IDX_W 2
`define XBAR_MEM_W 16
`define XBAR_IN_W 16
`define XBAR_IN_SIGNED 1
`define XBAR_REFR_W 1
`define XBAR_COUNT_W 8
`define XBAR_MUL_W 1
`define XBAR_DECAY_MUL 0
`define XBAR_DECAY_SHIFT 0
`define XBAR_ROUNDING 0
`define XBAR_MEM_SAT 1
`define XBAR_THRESHOLD 1
`define XBAR_BIAS 0
`define XBAR_CMP_GE 0
`define XBAR_RESET_SUB 0
`define XBAR_REFRACTORY 0
`define XBAR_RECORDS 0
`define XBAR_VEC "response/lif.pop.vec"
`endif
// Defaults of the parameters added with the synapse, non-spiking and per-neuron bias support (a plain LIF).
`ifndef XBAR_SYN
`define XBAR_NONSPIKING 0
`define XBAR_BIAS_MEM 0
`define XBAR_BIAS_HEX ""
`define XBAR_SYN 0
`define XBAR_SYN_W 1
`define XBAR_SYN_MUL_W 1
`define XBAR_SYN_DECAY_MUL 0
`define XBAR_SYN_DECAY_SHIFT 0
`define XBAR_SYN_ROUNDING 0
`define XBAR_SYN_SAT 1
`define XBAR_SYN_BIAS 0
`define XBAR_SYN_BIAS_MEM 0
`define XBAR_SYN_BIAS_HEX ""
`endif

module xbar_lif_tb;
    localparam integer N = `XBAR_N;
    localparam integer LANES = `XBAR_LANES;
    localparam integer IDX_W = `XBAR_IDX_W;
    localparam integer MEM_W = `XBAR_MEM_W;
    localparam integer IN_W = `XBAR_IN_W;
    localparam integer REFR_W = `XBAR_REFR_W;
    localparam integer COUNT_W = `XBAR_COUNT_W;
    localparam integer SYN_W = `XBAR_SYN_W;
    localparam integer SYN = `XBAR_SYN;
    localparam integer BIAS_MEM = `XBAR_BIAS_MEM;
    localparam integer SYN_BIAS_MEM = `XBAR_SYN_BIAS_MEM;
    localparam integer NREC = `XBAR_RECORDS;
    // Fields of a lif record: sample cycle step neuron in mem spike refr count [syn].
    localparam integer NF = SYN != 0 ? 10 : 9;
    localparam integer F_SAMPLE = 0, F_CYCLE = 1, F_STEP = 2, F_NEURON = 3, F_IN = 4, F_MEM = 5, F_SPIKE = 6, F_REFR = 7, F_COUNT = 8, F_SYN = 9;

    reg clk = 1'b0;
    always #1 clk = ~clk;   // one macro cycle = 2 ns of simulation time

    reg clear = 1'b1;
    reg in_valid = 1'b0;
    reg [IDX_W-1:0] base = 0;
    reg [LANES-1:0] lane_en = 0;
    reg [LANES*IN_W-1:0] in_bus = 0;
    reg bias_we = 1'b0, syn_bias_we = 1'b0;
    reg [IDX_W-1:0] bias_addr = 0;
    reg [MEM_W-1:0] bias_data = 0;
    reg [SYN_W-1:0] syn_bias_data = 0;
    wire out_valid;
    wire [IDX_W-1:0] out_base;
    wire [LANES-1:0] out_en;
    wire [LANES*MEM_W-1:0] mem_bus;
    wire [LANES-1:0] spike_bus;
    wire [LANES*REFR_W-1:0] refr_bus;
    wire [LANES*COUNT_W-1:0] count_bus;
    wire [LANES*SYN_W-1:0] syn_bus;

    xbar_lif_unit #(
        .N(N), .LANES(LANES), .IDX_W(IDX_W), .MEM_W(MEM_W), .IN_W(IN_W), .IN_SIGNED(`XBAR_IN_SIGNED), .REFR_W(REFR_W),
        .COUNT_W(COUNT_W), .MUL_W(`XBAR_MUL_W), .DECAY_MUL(`XBAR_DECAY_MUL), .DECAY_SHIFT(`XBAR_DECAY_SHIFT),
        .ROUNDING(`XBAR_ROUNDING), .MEM_SAT(`XBAR_MEM_SAT), .THRESHOLD(`XBAR_THRESHOLD), .BIAS(`XBAR_BIAS),
        .CMP_GE(`XBAR_CMP_GE), .RESET_SUB(`XBAR_RESET_SUB), .REFRACTORY(`XBAR_REFRACTORY), .NONSPIKING(`XBAR_NONSPIKING),
        .BIAS_MEM(BIAS_MEM), .SYN(SYN), .SYN_W(SYN_W), .SYN_MUL_W(`XBAR_SYN_MUL_W), .SYN_DECAY_MUL(`XBAR_SYN_DECAY_MUL),
        .SYN_DECAY_SHIFT(`XBAR_SYN_DECAY_SHIFT), .SYN_ROUNDING(`XBAR_SYN_ROUNDING), .SYN_SAT(`XBAR_SYN_SAT),
        .SYN_BIAS(`XBAR_SYN_BIAS), .SYN_BIAS_MEM(SYN_BIAS_MEM)
    ) dut (
        .clk(clk), .clear(clear), .in_valid(in_valid), .base(base), .lane_en(lane_en), .in_bus(in_bus),
        .bias_we(bias_we), .syn_bias_we(syn_bias_we), .bias_addr(bias_addr), .bias_data(bias_data),
        .syn_bias_data(syn_bias_data),
        .out_valid(out_valid), .out_base(out_base), .out_en(out_en), .mem_bus(mem_bus), .spike_bus(spike_bus),
        .refr_bus(refr_bus), .count_bus(count_bus), .syn_bus(syn_bus)
    );

    // Per-neuron bias images (program/neuron.<pop>.bias.hex, .synapse_bias.hex).
    reg [MEM_W-1:0] bias_img [0:N-1];
    reg [SYN_W-1:0] syn_bias_img [0:N-1];

    reg [63:0] vec [0:(NREC > 0 ? NREC * NF : 1) - 1];
    reg [8*512-1:0] path;

    function [63:0] f;
        input integer rec, field;
        f = vec[rec * NF + field];
    endfunction

    integer i, j, k, lane, tb_cycle, cur_sample, more;
    reg [63:0] s, c;
    reg signed [MEM_W-1:0] exp_mem, got_mem;
    reg [REFR_W-1:0] exp_refr, got_refr;
    reg [COUNT_W-1:0] exp_count, got_count;
    reg signed [SYN_W-1:0] exp_syn, got_syn;
    reg exp_spike, got_spike;

    task mismatch;
        input integer rec;
        input [8*8-1:0] what;
        input signed [63:0] e;
        input signed [63:0] g;
        begin
            $display("MISMATCH cycle %0d sample %0d step %0d signal %0s.%0s[%0d] expected %0d got %0d",
                     f(rec, F_CYCLE), f(rec, F_SAMPLE), f(rec, F_STEP), what, `XBAR_POP, f(rec, F_NEURON), e, g);
            `XBAR_FAIL;
        end
    endtask

    initial begin
        if (!$value$plusargs("vec=%s", path)) path = `XBAR_VEC;
        if (NREC > 0) $readmemh(path, vec);
        // Write the per-neuron bias memories (clear is high: the state stays zero).
        if (BIAS_MEM != 0) $readmemh(`XBAR_BIAS_HEX, bias_img);
        if (SYN_BIAS_MEM != 0) $readmemh(`XBAR_SYN_BIAS_HEX, syn_bias_img);
        if (BIAS_MEM != 0 || SYN_BIAS_MEM != 0) begin
            for (i = 0; i < N; i = i + 1) begin
                @(negedge clk);
                bias_we = BIAS_MEM != 0;
                syn_bias_we = SYN_BIAS_MEM != 0;
                bias_addr = i;
                if (BIAS_MEM != 0) bias_data = bias_img[i];
                if (SYN_BIAS_MEM != 0) syn_bias_data = syn_bias_img[i];
            end
            @(negedge clk);
            bias_we = 1'b0;
            syn_bias_we = 1'b0;
        end
        cur_sample = -1;
        i = 0;
        tb_cycle = 0;
        while (i < NREC) begin
            s = f(i, F_SAMPLE);
            c = f(i, F_CYCLE);
            if (s != cur_sample) begin
                // New sample: clear the state for one clock; the next clock edge ends the sample's cycle 0.
                @(negedge clk);
                clear = 1'b1;
                in_valid = 1'b0;
                @(posedge clk);
                @(negedge clk);
                clear = 1'b0;
                tb_cycle = 0;
                cur_sample = s;
            end
            if (c < tb_cycle) begin
                $display("ERROR: records out of order at record %0d (cycle %0d after %0d)", i, c, tb_cycle);
                `XBAR_FAIL;
            end
            // Idle until cycle c.
            while (tb_cycle < c) begin
                @(negedge clk);
                in_valid = 1'b0;
                tb_cycle = tb_cycle + 1;
            end
            // Drive the group leaving the pipeline at cycle c.
            j = i;
            lane_en = 0;
            in_bus = 0;
            base = f(i, F_NEURON) - (f(i, F_NEURON) % LANES);
            // (The group's end is tested in the body: Verilator 5.006 cannot call a function in a loop condition.)
            more = 1;
            while (more) begin
                if (j >= NREC) more = 0;
                else if (f(j, F_SAMPLE) != s || f(j, F_CYCLE) != c) more = 0;
                else begin
                    lane = f(j, F_NEURON) - base;
                    if (lane < 0 || lane >= LANES) begin
                        $display("ERROR: record %0d: neuron %0d is not in the group of neuron %0d", j, f(j, F_NEURON), base);
                        `XBAR_FAIL;
                    end
                    lane_en[lane] = 1'b1;
                    in_bus[lane*IN_W +: IN_W] = f(j, F_IN);
                    j = j + 1;
                end
            end
            in_valid = 1'b1;
            @(posedge clk);
            #0.1;
            for (k = i; k < j; k = k + 1) begin
                lane = f(k, F_NEURON) - base;
                exp_mem = f(k, F_MEM);      got_mem = mem_bus[lane*MEM_W +: MEM_W];
                exp_spike = f(k, F_SPIKE);  got_spike = spike_bus[lane];
                exp_refr = f(k, F_REFR);    got_refr = refr_bus[lane*REFR_W +: REFR_W];
                exp_count = f(k, F_COUNT);  got_count = count_bus[lane*COUNT_W +: COUNT_W];
                if (!out_valid || !out_en[lane]) begin
                    $display("MISMATCH cycle %0d sample %0d step %0d signal valid.%0s[%0d] expected 1 got 0",
                             f(k, F_CYCLE), f(k, F_SAMPLE), f(k, F_STEP), `XBAR_POP, f(k, F_NEURON));
                    `XBAR_FAIL;
                end
                if (got_mem !== exp_mem) mismatch(k, "mem", exp_mem, got_mem);
                if (got_spike !== exp_spike) mismatch(k, "spike", exp_spike, got_spike);
                if (got_refr !== exp_refr) mismatch(k, "refr", exp_refr, got_refr);
                if (got_count !== exp_count) mismatch(k, "count", exp_count, got_count);
                if (SYN != 0) begin
                    exp_syn = f(k, F_SYN);  got_syn = syn_bus[lane*SYN_W +: SYN_W];
                    if (got_syn !== exp_syn) mismatch(k, "syn", exp_syn, got_syn);
                end
            end
            tb_cycle = tb_cycle + 1;
            i = j;
            @(negedge clk);
            in_valid = 1'b0;
        end
        // Every record before i was checked (a mismatch ends the run). (No separate counter: Verilator 5.006 loses
        // the increments of a variable written only after a delay inside this loop.)
        if (SYN != 0) $display("PASS %0d neuron updates of %0s checked (mem, spike, refr, count, syn)", i, `XBAR_POP);
        else $display("PASS %0d neuron updates of %0s checked (mem, spike, refr, count)", i, `XBAR_POP);
        $finish;
    end
endmodule
