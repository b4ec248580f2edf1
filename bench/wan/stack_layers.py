#!/usr/bin/env python3
"""Grow a dynamo-exported Wan ONNX graph to more transformer blocks.

Exporting the 40-layer Wan 14B needs about 56 GB of host memory (fp32
weights held by PyTorch while the exporter writes them). The block structure
is identical from block 1 on, so this copies the last exported block's nodes
(renamed, with their provenance metadata saying `blocks.K`, so the importer
names the weights `blocks.K.…`) and its private initializers until the graph
has LAYERS blocks. New weights point into the external data file at new
offsets; the file is extended as a sparse file: tensors up to 1 MiB (the
exporter's own constants among them, e.g. LayerNorm's ones) get the copied
block's bytes, the big weight matrices stay zero (no disk space) — the
benchmark binds real weights by name (safetensors) or draws random ones.

  python3 bench/wan/export_wan.py --config 14b --layers 2 --frames 21 --height 90 \
      --width 160 --out /tmp/wan14b_l2
  python3 bench/wan/stack_layers.py /tmp/wan14b_l2 /tmp/wan14b --layers 40

The output folder gets wan.onnx and a copy of wan.onnx.data, extended there.
"""
import argparse
import collections
import os
import re
import shutil

import onnx

BLOCK = re.compile(r"/blocks\.(\d+):")
SMALL_BYTES = 1 << 20  # cloned external tensors up to this size get their data


def block_of(node):
    for p in node.metadata_props:
        if p.key == "namespace":
            m = BLOCK.search(p.value)
            return int(m.group(1)) if m else -1
    return None


def assign_blocks(nodes):
    """Block index per node; unannotated nodes (the rewriter's Splits) join
    the block all their consumers are in."""
    consumers = collections.defaultdict(list)
    for n in nodes:
        for i in n.input:
            consumers[i].append(n)
    blocks = {id(n): block_of(n) for n in nodes}
    changed = True
    while changed:
        changed = False
        for n in nodes:
            if blocks[id(n)] is not None:
                continue
            users = {blocks[id(c)] for o in n.output for c in consumers[o]}
            if len(users) == 1 and None not in users:
                blocks[id(n)] = users.pop()
                changed = True
    return {k: (-1 if b is None else b) for k, b in blocks.items()}


def depends_on(nodes, source):
    """Names of values that depend on graph input `source`."""
    dep = {source}
    for n in nodes:  # nodes are topologically sorted
        if any(i in dep for i in n.input):
            dep.update(n.output)
    return dep


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", help="an exported graph with at least 2 blocks: MODEL.onnx, or a "
                                "folder holding wan.onnx (+ its external data file)")
    ap.add_argument("out", help="output folder (gets wan.onnx and the data file)")
    ap.add_argument("--layers", type=int, required=True)
    ap.add_argument("--copy-weights", action="store_true",
                    help="write the copied block's weights into the new blocks (to check the "
                         "graph against PyTorch) instead of leaving zeros; tensors up to 1 MiB "
                         "are always copied")
    args = ap.parse_args()
    src = args.src if args.src.endswith(".onnx") else os.path.join(args.src, "wan.onnx")
    model = onnx.load(src, load_external_data=False)
    g = model.graph
    nodes = list(g.node)  # one wrapper per node: blocks are keyed by id()
    blocks = assign_blocks(nodes)
    last = max(blocks.values())
    if last < 1:
        raise SystemExit("the source graph needs at least 2 blocks: no node metadata names "
                         "module blocks.1 (a dynamo export of a model with blocks.N)")
    if args.layers <= last + 1:
        raise SystemExit(f"the source already has {last + 1} blocks")
    body = [n for n in nodes if blocks[id(n)] == last]
    produced = {o for n in body for o in n.output}
    inits = {t.name: t for t in g.initializer}
    used_by = collections.defaultdict(set)
    for n in nodes:
        for i in n.input:
            used_by[i].add(blocks[id(n)])
    private = [name for name, users in used_by.items() if name in inits and users == {last}]
    # The residual stream: the one value from an earlier block that depends
    # on the latents; everything else the block reads (modulation, RoPE, text)
    # is shared by every block.
    hidden = depends_on(nodes, "hidden_states")
    stream_in = {i for n in body for i in n.input if i not in produced and i in hidden}
    stream_out = {o for n in nodes if blocks[id(n)] != last for o in n.input if o in produced}
    if len(stream_in) != 1 or len(stream_out) != 1:
        raise SystemExit(f"expected one residual value into and out of block {last}, got "
                         f"{sorted(stream_in)} / {sorted(stream_out)}")
    (stream_in,), (stream_out,) = stream_in, stream_out

    os.makedirs(args.out, exist_ok=True)
    locations = {kv.value for t in g.initializer if t.data_location == onnx.TensorProto.EXTERNAL
                 for kv in t.external_data if kv.key == "location"}
    if len(locations) > 1:
        raise SystemExit(f"expected one external data file, got {sorted(locations)}")
    data_name = locations.pop() if locations else "wan.onnx.data"
    data_src = os.path.join(os.path.dirname(src), data_name)
    data_out = os.path.join(args.out, data_name)
    if os.path.exists(data_src) and os.path.abspath(data_src) != os.path.abspath(data_out):
        shutil.copyfile(data_src, data_out)  # never a hard link: the source stays as it was
    elif not os.path.exists(data_out):
        open(data_out, "wb").close()
    end = os.path.getsize(data_out)

    def ext(t):
        return {kv.key: kv.value for kv in t.external_data}

    new_nodes, new_inits, copies = [], [], []
    # Exporter-made names (val_N) stay of that form: the importer recovers a
    # transposed Linear weight's parameter name only for those.
    values = [t.name for t in g.initializer] + [o for n in nodes for o in n.output]
    numbers = [int(v[4:]) for v in values if re.fullmatch(r"val_\d+", v)]
    next_val = iter(range(max(numbers, default=0) + 1, 1 << 62))

    def fresh_name(name, k):
        if name.startswith(tag + "."):
            return f"blocks.{k}." + name[len(tag) + 1:]
        if re.fullmatch(r"val_\d+", name):
            return f"val_{next(next_val)}"
        return name + f"__b{k}"

    prev_out = stream_out
    tag = f"blocks.{last}"
    for k in range(last + 1, args.layers):
        suffix = f"__b{k}"
        rename = {v: v + suffix for v in produced}
        rename[stream_in] = prev_out
        for name in private:
            t = onnx.TensorProto()
            t.CopyFrom(inits[name])
            t.name = fresh_name(name, k)
            rename[name] = t.name
            if t.data_location == onnx.TensorProto.EXTERNAL:
                length = int(ext(t)["length"])
                end = (end + 4095) // 4096 * 4096
                # Small tensors are copied: among them are the exporter's own
                # constants (LayerNorm's ones, ...), which the importer embeds
                # instead of binding by name. The big weight matrices are
                # bound by name at run time, so zeros (a sparse file) do.
                if args.copy_weights or length <= SMALL_BYTES:
                    copies.append((int(ext(inits[name]).get("offset", 0)), end, length))
                del t.external_data[:]
                for key, value in (("location", data_name), ("offset", str(end)), ("length", str(length))):
                    e = t.external_data.add()
                    e.key, e.value = key, value
                end += length
            new_inits.append(t)
        for n in body:
            c = onnx.NodeProto()
            c.CopyFrom(n)
            c.name = n.name + suffix
            for j, i in enumerate(c.input):
                c.input[j] = rename.get(i, i)
            for j, o in enumerate(c.output):
                c.output[j] = rename[o]
            for p in c.metadata_props:
                p.value = p.value.replace(tag, f"blocks.{k}")
            new_nodes.append(c)
        prev_out = stream_out + suffix
    # The un-patchify reads the last block's output.
    cut = max(j for j, n in enumerate(nodes) if blocks[id(n)] == last) + 1
    tail = [n for n in nodes[cut:] if blocks[id(n)] != last]
    for n in tail:
        for j, i in enumerate(n.input):
            if i == stream_out:
                n.input[j] = prev_out
    order = [onnx.NodeProto() for _ in range(cut)]
    for c, n in zip(order, nodes[:cut]):
        c.CopyFrom(n)
    order += new_nodes + [onnx.NodeProto() for _ in tail]
    for c, n in zip(order[cut + len(new_nodes):], tail):
        c.CopyFrom(n)
    del g.node[:]
    g.node.extend(order)
    g.initializer.extend(new_inits)
    with open(data_out, "r+b") as fh:
        fh.truncate(end)
        for src, dst, length in copies:
            fh.seek(src)
            chunk = fh.read(length)
            fh.seek(dst)
            fh.write(chunk)
    onnx.save(model, os.path.join(args.out, "wan.onnx"))
    onnx.checker.check_model(os.path.join(args.out, "wan.onnx"))
    print(f"{args.out}/wan.onnx: {args.layers} blocks ({len(body)} nodes and {len(private)} "
          f"weights per block copied), data {end / 2**30:.1f} GiB (sparse)")


if __name__ == "__main__":
    main()
