-- AlterTable
ALTER TABLE "Job" ADD COLUMN "parentJobId" INTEGER;
ALTER TABLE "Job" ADD COLUMN "variation" TEXT;
ALTER TABLE "Job" ADD COLUMN "startRef" TEXT;

-- CreateIndex
CREATE INDEX "Job_contentRef_idx" ON "Job"("contentRef");
