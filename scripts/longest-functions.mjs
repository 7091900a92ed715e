// Lists the longest functions of the TypeScript sources, for reviews:
//   node scripts/longest-functions.mjs [N] [folders...]   (default 10; src server contract)
import ts from 'typescript';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const [count = '10', ...folders] = process.argv.slice(2);
const roots = folders.length ? folders : ['src', 'server', 'contract'];
const files = roots.flatMap(function walk(path) {
  if (statSync(path).isDirectory()) {
    return readdirSync(path).flatMap(name => walk(join(path, name)));
  }
  return /\.tsx?$/.test(path) && !path.endsWith('.d.ts') ? [path] : [];
});
const found = [];
for (const file of files) {
  const source = ts.createSourceFile(
    file,
    readFileSync(file, 'utf8'),
    ts.ScriptTarget.Latest,
    true
  );
  const lineOf = pos => source.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = node => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      let name = node.name?.getText(source);
      if (!name && ts.isVariableDeclaration(node.parent)) {
        name = node.parent.name.getText(source);
      }
      if (!name && ts.isPropertyAssignment(node.parent)) {
        name = node.parent.name.getText(source);
      }
      if (name) {
        const start = lineOf(node.getStart(source));
        found.push({ lines: lineOf(node.end) - start + 1, where: `${file}:${start}`, name });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
found.sort((a, b) => b.lines - a.lines);
for (const f of found.slice(0, Number(count))) {
  console.log(`${String(f.lines).padStart(4)}  ${f.name}  ${f.where}`);
}
